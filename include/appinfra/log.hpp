#pragma once
/// @file appinfra/log.hpp
/// Logging: levels, the default {fmt} logger, the null logger, LogConfig and
/// LoggerFactory. The spdlog logger is apart, in <appinfra/log/spdlog_logger.hpp>,
/// since it drags in spdlog.

#include <appinfra/log/config.hpp>
#include <appinfra/log/escape.hpp>
#include <appinfra/log/level.hpp>
#include <appinfra/log/logger.hpp>
#include <appinfra/log/null_logger.hpp>
