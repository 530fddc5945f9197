// Must not compile: a character is neither a number nor a text (compiled mode's
// conversion, which the backends compiled into the library are given).
#include <appinfra/db/param.hpp>

auto p = appinfra::db::to_param('a');
