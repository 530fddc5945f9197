// appinfra-db: health, pool status, migrations and database creation for the
// databases of a service's configuration (etc/infra.yaml, or DATABASE_URL), from
// the command line. Exit codes: 0 all went well; 1 a database is unhealthy, failed
// setup or a migration failed; 2 a usage or configuration error.

#include "commands.hpp"
#include "config_source.hpp"

#include <CLI/CLI.hpp>

#include <fmt/core.h>

#include <cstdint>
#include <exception>
#include <optional>
#include <string>

int main(int argc, char** argv) {
  namespace db = appinfra::db;
  namespace log = appinfra::log;
  using namespace appinfra_db;

  CLI::App app{"Health, pool status, migrations and creation of the databases of a configuration.\n"
               "Databases come from --config, else etc/infra.yaml when it exists, else DATABASE_URL (as 'primary').",
               "appinfra-db"};
  app.require_subcommand(1);
  app.fallthrough();  // global options also after the command: appinfra-db check --db primary
  app.footer("Exit status: 0 all went well, 1 a database is unhealthy or failed, 2 usage or configuration error.");

  std::string config_path, only_db, log_level = "off", migrations_dir = "migrations";
  auto* config_opt = app.add_option("-c,--config", config_path, "YAML file with a 'dbs:' section (default: " +
                                                                    std::string(default_config_path) + " if it exists)");
  auto* db_opt = app.add_option("--db", only_db, "work on this database only");
  app.add_option("--log-level", log_level, "the library's log lines on stderr: trace, debug, info, warning, error, off")
      ->capture_default_str();

  auto* check_cmd = app.add_subcommand("check", "health of each database (a timed SELECT 1), one line each; exit 1 if any is unhealthy");
  auto* status_cmd = app.add_subcommand("status", "pool status and statistics of each database");
  bool json = false;
  status_cmd->add_flag("--json", json, "the library's JSON metrics (db::metrics_json)");
  auto* migrate_cmd = app.add_subcommand("migrate", "apply the pending migrations of a folder, one at a time, timed");
  bool dry_run = false;
  std::int64_t to = 0;
  migrate_cmd->add_flag("--dry-run", dry_run, "list what would be applied; change nothing");
  auto* to_opt = migrate_cmd->add_option("--to", to, "apply the pending migrations up to this version only");
  for (auto* cmd : {migrate_cmd, app.add_subcommand("migration-status", "state of each migration of a folder on each database")})
    cmd->add_option("-m,--migrations", migrations_dir, "folder of <version>_<name>.sql files")->capture_default_str();
  auto* migration_status_cmd = app.get_subcommand("migration-status");
  auto* create_cmd = app.add_subcommand("create-db", "create each read-write database if it is missing");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  try {
    const ConfigSource source = load_config(config_opt->count() ? std::optional(config_path) : std::nullopt);
    const std::optional<std::string> only = db_opt->count() ? std::optional(only_db) : std::nullopt;
    Manager m(log::LoggerFactory::create_root(log::LogConfig::from_params(log_level, "appinfra-db")),
              select(source, only, {.create_db = create_cmd->parsed()}));
    if (check_cmd->parsed()) return check(m);
    if (status_cmd->parsed()) return status(m, json);
    if (migrate_cmd->parsed())
      return migrate(m, migrations_dir, dry_run, to_opt->count() ? std::optional(to) : std::nullopt);
    if (migration_status_cmd->parsed()) return migration_status(m, migrations_dir);
    if (create_cmd->parsed()) return create_db(m);
  } catch (const UsageError& e) {
    fmt::print(stderr, "appinfra-db: {}\n", e.what());
    return 2;
  } catch (const db::ConfigError& e) {
    fmt::print(stderr, "appinfra-db: {}\n", e.what());
    return 2;
  } catch (const db::MigrationError& e) {  // reading the folder
    fmt::print(stderr, "appinfra-db: {}\n", e.what());
    return 2;
  } catch (const std::invalid_argument& e) {  // --log-level
    fmt::print(stderr, "appinfra-db: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "appinfra-db: {}\n", e.what());
    return 1;
  }
  return 2;
}
