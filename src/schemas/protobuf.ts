import {SchemaParseError, type ReferenceResolver, type SchemaCodec, type SchemaText} from './types.js'

export async function compileProtobuf(_schema: SchemaText, _resolve: ReferenceResolver, _messageName?: string): Promise<SchemaCodec> {
  throw new SchemaParseError('Protobuf schemas are not supported yet')
}
