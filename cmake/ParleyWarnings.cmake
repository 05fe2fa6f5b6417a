# Warnings apply to project code only; third-party headers come in as system includes.
function(parley_project_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
    -Wnon-virtual-dtor -Wcast-align -Wunused -Woverloaded-virtual -Wimplicit-fallthrough
    $<$<COMPILE_LANGUAGE:C>:-Wstrict-prototypes>)
  if(PARLEY_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
