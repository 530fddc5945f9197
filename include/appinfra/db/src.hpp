#pragma once
/// @file appinfra/db/src.hpp
/// The core of the compiled library: what every backend shares and every
/// translation unit would otherwise compile again (reading a database's
/// configuration). Included once, in the library's own source (appinfra/src.hpp),
/// compiled with APPINFRA_SEPARATE_COMPILATION.

#ifndef APPINFRA_SEPARATE_COMPILATION
#error "appinfra/db/src.hpp builds the compiled library: define APPINFRA_SEPARATE_COMPILATION"
#endif

#include <appinfra/db/config/impl/database_config.ipp>
#include <appinfra/db/config/impl/options.ipp>
#include <appinfra/db/config/impl/value.ipp>
#include <appinfra/db/detail/impl/conninfo_parse.ipp>
#include <appinfra/db/detail/impl/entry_state.ipp>
#include <appinfra/db/detail/impl/literal_secrets.ipp>
#include <appinfra/db/detail/impl/manager_core.ipp>
#include <appinfra/db/detail/impl/setup_retry.ipp>
#include <appinfra/db/impl/url.ipp>
#include <appinfra/log/impl/escape.ipp>
#include <appinfra/log/impl/level.ipp>
#include <appinfra/log/impl/logger.ipp>
