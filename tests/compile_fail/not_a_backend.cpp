// Must not compile: int does not model db::Interface.
#include <appinfra/db.hpp>

appinfra::db::Manager<int>* m = nullptr;
