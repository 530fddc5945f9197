// The compiled library (APPINFRA_SEPARATE_COMPILATION), its sqlite part: see appinfra/src.hpp.
#include <appinfra/sqlite/src.hpp>
