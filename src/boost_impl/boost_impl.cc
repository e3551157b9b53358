// Compiles Boost.Asio (with SSL) and Boost.Beast once for the whole project. Every other TU is
// built with BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION and only sees
// declarations, which keeps per-file compile times down.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
