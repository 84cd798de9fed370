/**
 * Access to the ONNX protobuf schema. onnx-proto is a CommonJS module whose named exports Node's ESM
 * loader cannot see, so it is imported as a default export.
 */
import onnxProto from 'onnx-proto';
import type Long from 'long';

export const { onnx } = onnxProto;
export type { onnx as OnnxTypes } from 'onnx-proto';

/** protobufjs decodes 64-bit fields as Long when the `long` package is present, as plain numbers otherwise. */
export type ProtoInt = number | Long;

/** A 64-bit protobuf integer as a JS number (values beyond 2^53 lose precision; the sign is kept). */
export function protoIntToNumber(v: ProtoInt | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** A 64-bit protobuf integer as an exact BigInt, signed or unsigned. */
export function protoIntToBigInt(v: ProtoInt, unsigned: boolean): bigint {
  if (typeof v === 'number') return unsigned ? BigInt.asUintN(64, BigInt(v)) : BigInt(v);
  const bits = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return unsigned ? bits : BigInt.asIntN(64, bits);
}

/** Whether a decoded message carries an explicitly encoded field (protobufjs keeps defaults on the prototype). */
export function hasField(msg: object, field: string): boolean {
  return Object.prototype.hasOwnProperty.call(msg, field);
}
