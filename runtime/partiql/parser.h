// Parser for DynamoDB's PartiQL subset (ast.h):
//
//   statement := (select | insert | update | delete | exists) [';']
//   select    := SELECT ('*' | path (',' path)*) FROM source
//                [WHERE condition] [ORDER BY key [ASC|DESC] (',' ...)*]
//   source    := name ['.' name]               -- "table" or "table"."index"
//   insert    := INSERT INTO name VALUE '{' string ':' (literal | '?'), ... '}'
//   update    := UPDATE name (SET path '=' value (',' ...)* |
//                             REMOVE path (',' path)*)+
//                [WHERE condition] [RETURNING returning]
//   delete    := DELETE FROM name [WHERE condition] [RETURNING returning]
//   exists    := EXISTS '(' select ')'
//   returning := (ALL | MODIFIED) (OLD | NEW) '*'
//   condition := or;  or := and (OR and)*;  and := not (AND not)*
//   not       := NOT not | operand [comparator operand
//                | [NOT] BETWEEN operand AND operand | [NOT] IN list
//                | IS [NOT] (MISSING | NULL | BOOLEAN | NUMERIC | STRING |
//                            BLOB | STRUCT | TUPLE | LIST)]
//   operand   := term (('+' | '-') term)*
//   term      := literal | '?' | path | function '(' operand, ... ')'
//              | '(' condition ')'
//   path      := name ('.' name | '[' integer ']')*
//   literal   := 'string' | number | TRUE | FALSE | NULL
//              | '[' literal, ... ']' | '{' 'key' ':' literal, ... '}'
//              | '<<' literal, ... '>>'
// Keywords are case-insensitive; names are bare words or "quoted".
// Function names are case-insensitive: attribute_exists,
// attribute_not_exists, attribute_type, begins_with, contains and size in
// conditions; list_append, set_add and set_delete in SET values.
//
// Errors are InvalidArgument with DynamoDB's messages: syntax errors as
// "Statement wasn't well formed, can't be processed: <detail>" (detail
// such as "Unexpected term", "Unexpected keyword", "Unexpected token after
// expression"), and DynamoDB's own rejections of statements PartiQL
// accepts ("Aliasing is not supported", "RETURNING is not supported in
// INSERT", ...). Checks that need the table or the parameters are plan.h's.
//
// Thread-safety: a free function.
#ifndef EDDY_RUNTIME_PARTIQL_PARSER_H_
#define EDDY_RUNTIME_PARTIQL_PARSER_H_

#include <string_view>

#include "eddy/result.h"
#include "partiql/ast.h"

namespace eddy::runtime::partiql {

// DynamoDB's limit on a statement's length, in bytes (checked by the API's
// request validation, before parsing).
inline constexpr size_t kMaxStatementBytes = 8192;

Result<Statement> Parse(std::string_view text);

}  // namespace eddy::runtime::partiql

#endif  // EDDY_RUNTIME_PARTIQL_PARSER_H_
