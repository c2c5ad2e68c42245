import {
  OnnxDataType,
  type AttributeValue,
  type GraphSpec,
  type NodeSpec,
  type TensorSpec,
  type ValueInfoSpec,
} from './onnx-proto.js';

/** Attribute shorthands for {@link GraphBuilder.op}. */
export const attr = {
  int: (value: number): AttributeValue => ({ kind: 'int', value }),
  float: (value: number): AttributeValue => ({ kind: 'float', value }),
  ints: (value: readonly number[]): AttributeValue => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): AttributeValue => ({ kind: 'floats', value }),
  string: (value: string): AttributeValue => ({ kind: 'string', value }),
};

/**
 * Builds one ONNX graph: named values, constant initializers and nodes, in topological order
 * (every op is added after its inputs exist). Value and node names are made unique from hints,
 * so graphs read well in Netron.
 */
export class GraphBuilder {
  readonly #nodes: NodeSpec[] = [];
  readonly #initializers: TensorSpec[] = [];
  readonly #inputs: ValueInfoSpec[] = [];
  readonly #outputs: ValueInfoSpec[] = [];
  readonly #names = new Set<string>();

  constructor(readonly name: string) {}

  #unique(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_./-]/g, '_') || 'v';
    let candidate = base;
    for (let i = 1; this.#names.has(candidate); i++) candidate = `${base}_${i}`;
    this.#names.add(candidate);
    return candidate;
  }

  /** Declares a graph input and returns its value name (exactly `name`). */
  input(name: string, elemType: OnnxDataType, shape: readonly (number | string)[]): string {
    if (this.#names.has(name)) throw new Error(`graph ${this.name}: duplicate name ${name}`);
    this.#names.add(name);
    this.#inputs.push({ name, elemType, shape });
    return name;
  }

  /** Declares `value` as the graph output `name` (adds an Identity when the names differ). */
  output(value: string, name: string, elemType: OnnxDataType, shape: readonly (number | string)[], docString?: string): void {
    if (value !== name) {
      if (this.#names.has(name)) throw new Error(`graph ${this.name}: duplicate name ${name}`);
      this.#names.add(name);
      this.#nodes.push({ name: this.#unique(`${name}/Identity`), opType: 'Identity', inputs: [value], outputs: [name] });
    }
    this.#outputs.push({ name, elemType, shape, ...(docString ? { docString } : {}) });
  }

  /** Adds a float32 constant and returns its name. */
  floats(hint: string, dims: readonly number[], data: Float32Array | readonly number[]): string {
    const name = this.#unique(hint);
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    this.#initializers.push({ name, dims, dataType: OnnxDataType.FLOAT, data: values });
    return name;
  }

  /** Adds an int64 constant (shapes, pads, axes) and returns its name. */
  int64s(hint: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    const name = this.#unique(hint);
    this.#initializers.push({
      name,
      dims,
      dataType: OnnxDataType.INT64,
      data: BigInt64Array.from(values, (v) => BigInt(v)),
    });
    return name;
  }

  /** Adds a node with one output and returns the output's name. An empty input name means "absent". */
  op(opType: string, inputs: readonly string[], attributes: Readonly<Record<string, AttributeValue>> = {}, hint?: string): string {
    for (const i of inputs) {
      if (i !== '' && !this.#names.has(i)) throw new Error(`graph ${this.name}: ${opType} input ${i} is not defined`);
    }
    const out = this.#unique(hint ?? opType);
    this.#nodes.push({ name: this.#unique(`${out}/${opType}`), opType, inputs, outputs: [out], attributes });
    return out;
  }

  build(docString?: string): GraphSpec {
    return {
      name: this.name,
      nodes: [...this.#nodes],
      initializers: [...this.#initializers],
      inputs: [...this.#inputs],
      outputs: [...this.#outputs],
      ...(docString ? { docString } : {}),
    };
  }
}
