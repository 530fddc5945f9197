#pragma once
/// @file appinfra/pg.hpp
/// The PostgreSQL backends: appinfra::pg::PG<Access, Pool, Logger>, and
/// pg::Replicated<Pool, Logger> (a primary and its replicas). Needs libpqxx 6.

#include <appinfra/pg/pg.hpp>
#include <appinfra/pg/replicated.hpp>
