// The compiled library (APPINFRA_SEPARATE_COMPILATION), its core part: see appinfra/src.hpp.
#include <appinfra/db/src.hpp>
