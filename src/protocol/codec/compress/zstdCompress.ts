/**
 * Zstandard encoding (Kafka codec 4) with @bokuweb/zstd-wasm (the reference
 * zstd library compiled to WebAssembly), at level 3, Kafka's default: one
 * frame with its content size. The package instantiates its module
 * asynchronously; batches are encoded synchronously, so on first use the
 * module is instantiated here, synchronously, through its Emscripten
 * `instantiateWasm` hook (about 50 ms, once per process, only when zstd is
 * written). That reaches into the package's files, so its version is pinned.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Kafka's default zstd level. */
export const ZSTD_LEVEL = 3;

type Encode = (bytes: Uint8Array, level: number) => Uint8Array;

type WasmInstance = { exports: unknown };
/** The WebAssembly global, typed here: the project's lib has no DOM or WebAssembly declarations. */
type WasmGlobal = {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: unknown) => WasmInstance;
};

type EmscriptenModule = {
  instantiateWasm?: (imports: unknown, receive: (instance: WasmInstance) => void) => unknown;
  onRuntimeInitialized?: () => void;
  init(): void;
};

let encode: Encode | undefined;

function load(): Encode {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('@bokuweb/zstd-wasm');
  const dir = dirname(entry);
  const { Module } = require(join(dir, 'module.js')) as { Module: EmscriptenModule };
  let ready = false;
  Module.instantiateWasm = (imports, receive) => {
    const wasm = (globalThis as unknown as { WebAssembly: WasmGlobal }).WebAssembly;
    const instance = new wasm.Instance(new wasm.Module(readFileSync(join(dir, 'zstd.wasm'))), imports);
    receive(instance);
    return instance.exports;
  };
  const initialized = Module.onRuntimeInitialized;
  Module.onRuntimeInitialized = () => {
    ready = true;
    initialized?.();
  };
  Module.init();
  if (!ready) throw new Error('@bokuweb/zstd-wasm did not initialise synchronously');
  return (require(entry) as { compress: Encode }).compress;
}

/** `bytes` as one zstd frame. */
export function zstdCompress(bytes: Uint8Array): Uint8Array {
  encode ??= load();
  return encode(bytes, ZSTD_LEVEL);
}
