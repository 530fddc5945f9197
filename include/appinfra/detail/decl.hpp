#pragma once
// APPINFRA_DECL: how a function compiled once into the library is declared.
// Header-only (the default), it is inline and defined in an impl/*.ipp file that
// its header includes; with APPINFRA_SEPARATE_COMPILATION, it is declared only and
// defined once, in the library (appinfra/src.hpp), as Boost.MySQL's BOOST_MYSQL_DECL.

#ifdef APPINFRA_SEPARATE_COMPILATION
#define APPINFRA_DECL
#else
#define APPINFRA_DECL inline
#endif
