#pragma once
/// @file appinfra/db.hpp
/// The public API of appinfra::db, without any backend: Manager and
/// StaticManager, configuration, errors, results, health and statistics, the
/// concepts a backend, a pool, a logger and an access policy model, and the stock
/// policies. Backends come from <appinfra/pg.hpp> and <appinfra/sqlite.hpp>;
/// loggers from <appinfra/log.hpp>.
/// Configuration from a YAML file (etc/infra.yaml): <appinfra/db/config/yaml.hpp>,
/// not included here since it drags in yaml-cpp; from DATABASE_URL alone:
/// db::config_from_environment().
///
/// Compiled or header-only: header-only by default. With
/// APPINFRA_SEPARATE_COMPILATION defined in every translation unit (Meson:
/// dependency('appinfra-compiled'); pkg-config: appinfra-compiled), the default
/// backends, their pools and the configuration reader are compiled once into
/// libappinfra (appinfra/src.hpp), and these headers declare them only.
///
/// @code
/// #include <appinfra/db.hpp>
/// #include <appinfra/sqlite.hpp>
/// using namespace appinfra;
/// db::Manager<sqlite::SQLite<>> manager(log::LoggerFactory::create_root(log::LogConfig::from_params("info")),
///                                       {{"primary", {{"url", "sqlite:///:memory:"}}}});
/// manager.setup();
/// auto conn = manager.db("primary").connect();
/// conn.execute("SELECT 1");
/// @endcode

#include <appinfra/db/access.hpp>
#include <appinfra/db/config.hpp>
#include <appinfra/db/database.hpp>
#include <appinfra/db/deadline.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/fixed_options.hpp>
#include <appinfra/db/health.hpp>
#include <appinfra/db/manager.hpp>
#include <appinfra/db/migrations.hpp>
#include <appinfra/db/ordered_map.hpp>
#include <appinfra/db/param.hpp>
#include <appinfra/db/replica.hpp>
#include <appinfra/db/result.hpp>
#include <appinfra/db/static_manager.hpp>
#include <appinfra/db/stats.hpp>
#include <appinfra/db/url.hpp>

#include <appinfra/db/concepts/access.hpp>
#include <appinfra/db/concepts/backend.hpp>
#include <appinfra/db/concepts/connector.hpp>
#include <appinfra/db/concepts/logger.hpp>
#include <appinfra/db/concepts/pool.hpp>

#include <appinfra/db/pool/clock.hpp>
#include <appinfra/db/pool/options.hpp>
#include <appinfra/db/pool/policy.hpp>
#include <appinfra/db/pool/stats.hpp>
#ifndef APPINFRA_SEPARATE_COMPILATION
// In compiled mode the pools are the library's; a custom pool policy includes them.
#include <appinfra/db/pool/null_pool.hpp>
#include <appinfra/db/pool/queue_pool.hpp>
#include <appinfra/db/pool/static_pool.hpp>
#endif

#include <appinfra/log.hpp>
