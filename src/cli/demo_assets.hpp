// The files `parley demo` embeds (src/cli/CMakeLists.txt generates their definitions).
#pragma once

namespace parley::cli {

extern const char *const kDemoFlowJson;     // examples/flows/appointment.json
extern const char *const kDemoGrammarJsgf;  // examples/grammars/appointment.jsgf

}  // namespace parley::cli
