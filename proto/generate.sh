#!/usr/bin/env bash
# Regenerates src/protocol/generated/ from proto/streamhouse.proto.
# Needs protoc (Debian: apt-get install protobuf-compiler); ts-proto comes from
# devDependencies. The output is committed, so installing the package never
# needs protoc.
set -euo pipefail
cd "$(dirname "$0")/.."
out=src/protocol/generated
mkdir -p "$out"
protoc \
  --plugin=protoc-gen-ts_proto=node_modules/.bin/protoc-gen-ts_proto \
  --ts_proto_out="$out" \
  --ts_proto_opt=outputServices=nice-grpc,outputServices=generic-definitions \
  --ts_proto_opt=useExactTypes=false,esModuleInterop=true,importSuffix=.js \
  --ts_proto_opt=forceLong=number,env=node,outputJsonMethods=false,outputPartialMethods=true \
  --ts_proto_opt=unrecognizedEnum=false \
  -I proto proto/streamhouse.proto
echo "generated $out/streamhouse.ts"
