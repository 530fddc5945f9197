#pragma once
/// @file appinfra/pg/native.hpp
/// What native() returns, defined: libpqxx's connection and transaction. Needed
/// to use native() of a backend compiled into the library
/// (APPINFRA_SEPARATE_COMPILATION), whose header only names them.

#include <appinfra/pg.hpp>

#include <pqxx/connection>
#include <pqxx/transaction_base>
