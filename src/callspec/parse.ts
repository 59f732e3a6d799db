/**
 * A parser for C declarations: prototypes, type names and header-like files (typedefs, struct/union/enum
 * definitions). It understands what is needed to compute a calling convention, not all of C: there is no
 * preprocessor (`#` lines are skipped), no expressions beyond integer constant expressions, and no function bodies.
 *
 * Types are produced as plain `CType` values (types.ts). Tagged structs are stored by tag inside a `Declarations`
 * scope and expanded ("materialised") only when a type leaves the parser, so a struct defined after a typedef
 * that names it is still complete when used, and self-referential structs stay acyclic.
 *
 * The parser lives in parse/: tokenize.ts (lexer, DeclarationError), vocabulary.ts (keywords, basic types, built-in
 * typedefs), declarator.ts (declarators and the types they build), declarations.ts (the scope), and the parser's
 * layers cursor.ts (tokens, nesting limit) ← constant-expression.ts ← declarator-parser.ts ← parser.ts.
 */
export { MAX_DECLARATION_NESTING } from './parse/cursor.ts';
export { Declarations } from './parse/declarations.ts';
export { DeclarationError } from './parse/tokenize.ts';
