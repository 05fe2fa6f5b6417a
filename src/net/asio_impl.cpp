// The single translation unit that compiles Boost.Asio and Boost.Beast (separate
// compilation: BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION are set
// project-wide). Every other file includes only their declarations, which keeps a
// rebuild on 2 cores fast.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
