/**
 * A minimal protocol-buffer writer: just the wire types ONNX needs (varint, 64-bit-free fixed32,
 * length-delimited). Messages are built bottom-up; a nested message is appended by reference, so
 * large tensor payloads are copied once, in {@link ProtoWriter.finish}.
 *
 * Wire format reference: https://protobuf.dev/programming-guides/encoding/
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const textEncoder = new TextEncoder();

/** Encodes an unsigned or signed integer as a protobuf varint (negative int64 → 10 bytes, two's complement). */
export function encodeVarint(value: number | bigint): Uint8Array {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`varint: ${value} is not a safe integer`);
    if (value >= 0 && value < 2 ** 31) {
      const out: number[] = [];
      let v = value;
      while (v >= 0x80) {
        out.push((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      out.push(v);
      return Uint8Array.from(out);
    }
    value = BigInt(value);
  }
  let v = BigInt.asUintN(64, value);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

function tag(field: number, wireType: number): Uint8Array {
  return encodeVarint(field * 8 + wireType);
}

/** Accumulates the encoded fields of one message. */
export class ProtoWriter {
  readonly #chunks: Uint8Array[] = [];
  #length = 0;

  /** Encoded size in bytes so far. */
  get length(): number {
    return this.#length;
  }

  #push(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.#length += bytes.byteLength;
  }

  /** int32/int64/enum/bool field (wire type 0). */
  varint(field: number, value: number | bigint | boolean): this {
    this.#push(tag(field, WIRE_VARINT));
    this.#push(encodeVarint(typeof value === 'boolean' ? (value ? 1 : 0) : value));
    return this;
  }

  /** float field (wire type 5, little-endian IEEE 754 single). */
  float(field: number, value: number): this {
    this.#push(tag(field, WIRE_FIXED32));
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.#push(bytes);
    return this;
  }

  /** bytes field; the array is kept by reference until {@link finish}. */
  bytes(field: number, value: Uint8Array): this {
    this.#push(tag(field, WIRE_LENGTH_DELIMITED));
    this.#push(encodeVarint(value.byteLength));
    this.#push(value);
    return this;
  }

  /** string field (UTF-8). */
  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  /** Embedded message field; the writer's chunks are appended by reference. */
  message(field: number, value: ProtoWriter): this {
    this.#push(tag(field, WIRE_LENGTH_DELIMITED));
    this.#push(encodeVarint(value.length));
    for (const chunk of value.#chunks) this.#push(chunk);
    return this;
  }

  /** Packed repeated varint field (proto3 default for repeated scalars). */
  packedVarints(field: number, values: readonly (number | bigint)[]): this {
    if (values.length === 0) return this;
    const encoded = values.map((v) => encodeVarint(v));
    const size = encoded.reduce((n, b) => n + b.byteLength, 0);
    this.#push(tag(field, WIRE_LENGTH_DELIMITED));
    this.#push(encodeVarint(size));
    for (const b of encoded) this.#push(b);
    return this;
  }

  /** Packed repeated float field. */
  packedFloats(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    return this.bytes(field, bytes);
  }

  /** Concatenates everything written into one buffer. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out;
  }
}
