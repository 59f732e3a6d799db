/** Integer constant expressions (C11 §6.6), for array lengths, bit-field widths and enum values. */
import { TokenCursor } from './cursor.ts';
import type { Declarations } from './declarations.ts';

/** Binary operators of integer constant expressions, by precedence level (loosest first). */
const BINARY_LEVELS: Array<Record<string, (a: bigint, b: bigint) => bigint>> = [
  { '||': (a, b) => BigInt(a !== 0n || b !== 0n) },
  { '&&': (a, b) => BigInt(a !== 0n && b !== 0n) },
  { '|': (a, b) => a | b },
  { '^': (a, b) => a ^ b },
  { '&': (a, b) => a & b },
  { '==': (a, b) => BigInt(a === b), '!=': (a, b) => BigInt(a !== b) },
  { '<': (a, b) => BigInt(a < b), '>': (a, b) => BigInt(a > b), '<=': (a, b) => BigInt(a <= b), '>=': (a, b) => BigInt(a >= b) },
  { '<<': (a, b) => a << b, '>>': (a, b) => a >> b },
  { '+': (a, b) => a + b, '-': (a, b) => a - b },
  { '*': (a, b) => a * b, '/': (a, b) => a / b, '%': (a, b) => a % b },
];

const UNARY_OPERATORS: Record<string, (a: bigint) => bigint> = {
  '-': (a) => -a,
  '+': (a) => a,
  '~': (a) => ~a,
  '!': (a) => BigInt(a === 0n),
};

/** The parser layer that evaluates constant expressions; it holds the scope, whose enum constants they may name. */
export class ConstantExpressionParser extends TokenCursor {
  constructor(
    protected readonly scope: Declarations,
    source: string,
  ) {
    super(source);
  }

  protected constantExpression(): number {
    const start = this.token;
    const value = this.conditional();
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) this.fail(start, 'constant is too large');
    return Number(value);
  }

  private conditional(): bigint {
    const condition = this.binary(0);
    if (!this.accept('?')) return condition;
    const question = this.tokens[this.index - 1];
    const yes = this.nested(question, () => this.conditional());
    this.expect(':');
    const no = this.nested(question, () => this.conditional());
    return condition !== 0n ? yes : no;
  }

  private binary(level: number): bigint {
    if (level === BINARY_LEVELS.length) return this.unary();
    const operators = BINARY_LEVELS[level];
    let left = this.binary(level + 1);
    for (;;) {
      const t = this.token;
      const op = t.kind === 'punct' ? operators[t.text] : undefined;
      if (!op) return left;
      this.next();
      const right = this.binary(level + 1);
      if ((t.text === '/' || t.text === '%') && right === 0n) this.fail(t, 'division by zero in a constant expression');
      left = op(left, right);
    }
  }

  private unary(): bigint {
    const t = this.token;
    if (t.kind === 'punct' && UNARY_OPERATORS[t.text]) {
      this.next();
      return UNARY_OPERATORS[t.text](this.nested(t, () => this.unary()));
    }
    if (t.kind === 'number') {
      this.next();
      return t.value!;
    }
    if (this.accept('(')) {
      const value = this.nested(t, () => this.conditional());
      this.expect(')');
      return value;
    }
    if (t.kind === 'ident') {
      if (t.text === 'sizeof' || t.text === '_Alignof' || t.text === '__alignof__') {
        this.fail(t, `${t.text} is not supported in constant expressions (sizes depend on the architecture)`);
      }
      const value = this.scope.lookupConstant(t.text);
      if (value === undefined) this.fail(t, `"${t.text}" is not a known constant`);
      this.next();
      return value;
    }
    this.fail(t, `expected a constant, found ${this.describe(t)}`);
  }
}
