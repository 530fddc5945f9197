// The compiled library (APPINFRA_SEPARATE_COMPILATION), its pg part: see appinfra/src.hpp.
#include <appinfra/pg/src.hpp>
