#pragma once
// Configuration: the untyped form a service reads from its config source
// (Config, Options, Value) and the validated form a backend is built from
// (DatabaseConfig), each key declared once in db/config/keys.hpp.
// From a YAML file: db/config/yaml.hpp, not included here (it drags in yaml-cpp).

#include <appinfra/db/config/database_config.hpp>
#include <appinfra/db/config/environment.hpp>
#include <appinfra/db/config/options.hpp>
#include <appinfra/db/config/value.hpp>
