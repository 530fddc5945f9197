// Must not compile: a db::Params is the statement's only parameter argument.
#include <appinfra/db/param.hpp>

#include <vector>

void use(const std::vector<appinfra::db::Param>& v) {
  (void)appinfra::db::detail::param_count(1, appinfra::db::Params(v));
}
