#pragma once
/// @file appinfra/pg.hpp
/// The PostgreSQL backend: appinfra::pg::PG<Access, Pool, Logger>. Needs libpqxx 6.

#include <appinfra/pg/pg.hpp>
