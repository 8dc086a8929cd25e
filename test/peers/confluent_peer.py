#!/usr/bin/env python3
"""A peer for spool's schema-registry tests: Confluent's own Python client (confluent-kafka) and its
schema-registry serializers, producing and consuming records in the Confluent wire format
(0x00, a 4-byte big-endian schema id, then the Avro / JSON / Protobuf payload).

  confluent_peer.py produce --bootstrap HOST:PORT --registry URL --topic T
      --value-format avro|json|protobuf --value-schema FILE [--message NAME]
      [--key-format avro|json|protobuf|string --key-schema FILE [--key-message NAME]]
      [--envelope] [--partition N]
    reads JSON lines from stdin: a bare value, or with --envelope {"key": ..., "value": ...}
    (a missing or null key is no key; a null value is a tombstone).

  confluent_peer.py consume --bootstrap HOST:PORT --registry URL --topic T
      --value-format avro|json|protobuf [--value-schema FILE] [--message NAME]
      [--key-format avro|json|protobuf|string [--key-schema FILE] [--key-message NAME]]
      --count N [--timeout SECONDS] [--partition N]
    reads the topic from its start and writes one JSON line per record, in offset order per partition:
    {"key": <canonical JSON> | null, "value": <canonical JSON> | null}; exits 1 if fewer than N arrive in time.

Values are in their canonical JSON form:
  avro      Avro's JSON encoding: unions as {"type name": value} (null as null), bytes and fixed as
            strings of \\u0000-\\u00ff characters (fastavro's json reader and writer); consume writes
            the record with the schema it was written with (fetched from the registry by id).
  protobuf  the proto3 JSON mapping (google.protobuf.json_format: ParseDict in, MessageToDict with
            default options out: lowerCamelCase names, int64 as strings, enum names, defaults omitted).
            --value-schema is the .proto file (compiled at run time with grpc_tools.protoc), --message
            the message's name (default: the file's first message). Consuming needs the .proto too,
            and fails if a record's message indexes name another message. A schema that another
            producer registered as .proto text is read too, although Apicurio (unlike Confluent's
            registry) ignores ?format=serialized: see RegistryClient.
  json      the JSON document itself (--value-schema is the JSON Schema; optional when consuming,
            the writer's schema then comes from the registry).
  string    (keys only) UTF-8 text, no framing: produce takes a JSON string, consume writes one.
Integers are exact (Python ints), so an Avro long 9223372036854775807 survives.

  confluent_peer.py create-topic --bootstrap HOST:PORT --topic T [--partitions N]
    creates a topic (replication factor 1) with the client's AdminClient; the broker does not auto-create.

Subjects follow the default TopicNameStrategy: T-key and T-value. Schemas are registered automatically.
Exit status: 0 on success, 1 on any error (printed to stderr).
"""
import argparse
import importlib.util
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.serialization import MessageField, SerializationContext

FORMATS = ('avro', 'json', 'protobuf', 'string')


def fail(message):
    sys.stderr.write(f'confluent_peer: {message}\n')
    sys.exit(1)


def dumps(value):
    # ensure_ascii: Avro bytes come out as \u00XX escapes, and the output is plain ASCII.
    return json.dumps(value, separators=(',', ':'), ensure_ascii=True)


# ---------------------------------------------------------------------------------------------- registry


class RegistryClient(SchemaRegistryClient):
    """
    Confluent's client, made to read Protobuf schemas that another producer registered as .proto text
    from a registry that, like Apicurio, ignores `GET /schemas/ids/N?format=serialized`. Confluent's
    registry answers that with a base64 FileDescriptorProto, which is what the ProtobufDeserializer
    parses; Apicurio answers with the text as registered, so the text is compiled here (protoc) into
    the form Confluent's registry would have sent. Imports other than Google's well-known types are not
    resolved.
    """

    def __init__(self, conf):
        super().__init__(conf)
        self._serialized = {}

    def get_schema(self, schema_id, subject_name=None, fmt=None, reference_format=None):
        schema = super().get_schema(schema_id, subject_name, fmt, reference_format)
        if fmt != 'serialized' or schema.schema_type != 'PROTOBUF' or is_serialized_descriptor(schema.schema_str):
            return schema
        if schema.schema_str not in self._serialized:
            import attrs

            self._serialized[schema.schema_str] = attrs.evolve(schema, schema_str=proto_text_to_serialized(schema.schema_str))
        return self._serialized[schema.schema_str]


def is_serialized_descriptor(text):
    import base64
    import binascii

    from google.protobuf import descriptor_pb2
    from google.protobuf.message import DecodeError

    try:
        descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(text, validate=True))
        return True
    except (binascii.Error, ValueError, DecodeError):
        return False


def proto_text_to_serialized(text):
    """.proto text -> base64 of its FileDescriptorProto, as Confluent's registry serves format=serialized."""
    import base64

    from google.protobuf import descriptor_pb2

    work = tempfile.mkdtemp(prefix='confluent-peer-schema-')
    with open(os.path.join(work, 'schema.proto'), 'w', encoding='utf-8') as f:
        f.write(text)
    out = os.path.join(work, 'schema.pb')
    result = subprocess.run(
        [sys.executable, '-m', 'grpc_tools.protoc', f'-I{work}', f'--descriptor_set_out={out}', 'schema.proto'],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise ValueError(f'the registry\'s .proto text does not compile:\n{result.stderr}')
    with open(out, 'rb') as f:
        files = descriptor_pb2.FileDescriptorSet.FromString(f.read()).file
    return base64.b64encode(files[0].SerializeToString()).decode('ascii')


# ---------------------------------------------------------------------------------------------- protobuf


_compiled = {}


def protobuf_module(proto_file):
    """Compiles a .proto file with grpc_tools.protoc into a temporary directory and imports it."""
    proto_file = os.path.abspath(proto_file)
    if proto_file in _compiled:
        return _compiled[proto_file]
    out = tempfile.mkdtemp(prefix='confluent-peer-proto-')
    include = os.path.dirname(proto_file)
    result = subprocess.run(
        [sys.executable, '-m', 'grpc_tools.protoc', f'-I{include}', f'--python_out={out}', proto_file],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        fail(f'protoc failed on {proto_file}:\n{result.stderr}')
    name = os.path.splitext(os.path.basename(proto_file))[0].replace('-', '_').replace('.', '_') + '_pb2'
    path = os.path.join(out, os.path.splitext(os.path.relpath(proto_file, include))[0].replace('-', '_').replace('.', '_') + '_pb2.py')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    _compiled[proto_file] = module
    return module


def protobuf_class(proto_file, message):
    from google.protobuf.message_factory import GetMessageClass

    module = protobuf_module(proto_file)
    file_descriptor = module.DESCRIPTOR
    if message is None:
        if not file_descriptor.message_types_by_name:
            fail(f'{proto_file} defines no message')
        descriptor = next(iter(file_descriptor.message_types_by_name.values()))
    else:
        # A simple name (Order), a nested one (Order.Line) or a full name (spool.test.Order).
        relative = message
        if file_descriptor.package and message.startswith(file_descriptor.package + '.'):
            relative = message[len(file_descriptor.package) + 1 :]
        parts = relative.split('.')
        descriptor = file_descriptor.message_types_by_name.get(parts[0])
        for part in parts[1:]:
            descriptor = descriptor.nested_types_by_name.get(part) if descriptor else None
        if descriptor is None:
            fail(f'{proto_file} has no message {message}')
    return GetMessageClass(descriptor)


def message_path(descriptor):
    """A message's indexes in its file, as Confluent's framing writes them: [1] for the second top-level."""
    path = []
    while descriptor.containing_type is not None:
        path.insert(0, list(descriptor.containing_type.nested_types).index(descriptor))
        descriptor = descriptor.containing_type
    path.insert(0, list(descriptor.file.message_types_by_name.values()).index(descriptor))
    return path


def message_indexes(data):
    """The message indexes after the 5-byte header: zigzag varints, a count then the indexes; 0 is [0]."""
    at = 5

    def varint():
        nonlocal at
        shift = result = 0
        while True:
            if at >= len(data):
                fail(f'the message indexes run past the record ({data[:16].hex()})')
            byte = data[at]
            at += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return (result >> 1) ^ -(result & 1)

    count = varint()
    return [0] if count == 0 else [varint() for _ in range(count)]


# ------------------------------------------------------------------------------------------- serdes


class Side:
    """How one side of a record (key or value) is written and read."""

    def __init__(self, field, fmt, schema_file, message, registry):
        self.field = field
        self.fmt = fmt
        self.schema_file = schema_file
        self.message = message
        self.registry = registry
        self.schema_str = open(schema_file, encoding='utf-8').read() if schema_file else None
        self._parsed_writer_schemas = {}

    # -- produce

    def serializer(self):
        if self.fmt == 'avro':
            import fastavro
            from confluent_kafka.schema_registry.avro import AvroSerializer

            self.need_schema()
            self.avro_schema = fastavro.parse_schema(json.loads(self.schema_str))
            return AvroSerializer(self.registry, self.schema_str)
        if self.fmt == 'json':
            from confluent_kafka.schema_registry.json_schema import JSONSerializer

            self.need_schema()
            return JSONSerializer(self.schema_str, self.registry)
        if self.fmt == 'protobuf':
            from confluent_kafka.schema_registry.protobuf import ProtobufSerializer

            self.need_schema()
            self.message_class = protobuf_class(self.schema_file, self.message)
            return ProtobufSerializer(self.message_class, self.registry, {'use.deprecated.format': False})
        return None

    def to_object(self, canonical):
        """The serializer's input for a value in canonical JSON form."""
        if self.fmt == 'avro':
            import fastavro

            text = io.StringIO(json.dumps(canonical) + '\n')
            return next(iter(fastavro.json_reader(text, self.avro_schema)))
        if self.fmt == 'protobuf':
            from google.protobuf import json_format

            return json_format.ParseDict(canonical, self.message_class())
        return canonical

    def encode(self, serializer, canonical, topic):
        if canonical is None:
            return None
        if self.fmt == 'string':
            if not isinstance(canonical, str):
                fail(f'a string {self.field} must be a JSON string, not {dumps(canonical)}')
            return canonical.encode('utf-8')
        return serializer(self.to_object(canonical), SerializationContext(topic, self.field))

    # -- consume

    def deserializer(self):
        if self.fmt == 'avro':
            from confluent_kafka.schema_registry.avro import AvroDeserializer

            # No reader schema: records come back as written, and are printed with the writer's schema.
            return AvroDeserializer(self.registry)
        if self.fmt == 'json':
            from confluent_kafka.schema_registry.json_schema import JSONDeserializer

            return JSONDeserializer(self.schema_str, schema_registry_client=self.registry)
        if self.fmt == 'protobuf':
            from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer

            self.need_schema('to read protobuf')
            self.message_class = protobuf_class(self.schema_file, self.message)
            return ProtobufDeserializer(self.message_class, {'use.deprecated.format': False}, self.registry)
        return None

    def decode(self, deserializer, data, topic):
        if data is None:
            return None
        if self.fmt == 'string':
            return data.decode('utf-8')
        if len(data) < 5 or data[0] != 0:
            fail(f'{self.field} is not in the Confluent wire format: {data[:16].hex()}')
        if self.fmt == 'protobuf':
            # Confluent's deserializer parses into the class it was given whatever message the indexes
            # name: check them, so that a writer's wrong indexes are caught here.
            written, expected = message_indexes(data), message_path(self.message_class.DESCRIPTOR)
            if written != expected:
                fail(f'{self.field} names message indexes {written}, not {expected} ({self.message_class.DESCRIPTOR.full_name})')
        obj = deserializer(data, SerializationContext(topic, self.field))
        if self.fmt == 'avro':
            return self.avro_canonical(obj, int.from_bytes(data[1:5], 'big'))
        if self.fmt == 'protobuf':
            from google.protobuf import json_format

            return json_format.MessageToDict(obj)
        return obj

    def avro_canonical(self, obj, schema_id):
        import fastavro

        parsed = self._parsed_writer_schemas.get(schema_id)
        if parsed is None:
            schema = self.registry.get_schema(schema_id)
            parsed = fastavro.parse_schema(json.loads(schema.schema_str))
            self._parsed_writer_schemas[schema_id] = parsed
        out = io.StringIO()
        fastavro.json_writer(out, parsed, [obj])
        return json.loads(out.getvalue())

    def need_schema(self, why='to write'):
        if self.schema_str is None:
            fail(f'--{self.field_flag()}-schema is needed {why} {self.fmt}')

    def field_flag(self):
        return 'key' if self.field == MessageField.KEY else 'value'


# ------------------------------------------------------------------------------------------- commands


def produce(args, registry):
    value = Side(MessageField.VALUE, args.value_format, args.value_schema, args.message, registry)
    key = Side(MessageField.KEY, args.key_format, args.key_schema, args.key_message, registry) if args.key_format else None
    value_serializer = value.serializer()
    key_serializer = key.serializer() if key else None
    producer = Producer({'bootstrap.servers': args.bootstrap, 'linger.ms': 5})
    errors = []

    def delivered(err, _msg):
        if err is not None:
            errors.append(str(err))

    count = 0
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as e:
            fail(f'line {number}: not JSON: {e}')
        if args.envelope:
            if not isinstance(record, dict) or 'value' not in record:
                fail(f'line {number}: --envelope wants {{"key": ..., "value": ...}}')
            key_json, value_json = record.get('key'), record['value']
        else:
            key_json, value_json = None, record
        if key_json is not None and key is None:
            fail(f'line {number}: a key needs --key-format')
        try:
            key_bytes = key.encode(key_serializer, key_json, args.topic) if key else None
            value_bytes = value.encode(value_serializer, value_json, args.topic)
        except Exception as e:  # the serializers raise several kinds
            fail(f'line {number}: {type(e).__name__}: {e}')
        extra = {} if args.partition is None else {'partition': args.partition}
        producer.produce(args.topic, value=value_bytes, key=key_bytes, on_delivery=delivered, **extra)
        producer.poll(0)
        count += 1
    remaining = producer.flush(30)
    if remaining:
        fail(f'{remaining} record(s) not delivered within 30 s')
    if errors:
        fail(f'delivery failed: {errors[0]}')
    sys.stderr.write(f'confluent_peer: produced {count} record(s) to {args.topic}\n')


def consume(args, registry):
    value = Side(MessageField.VALUE, args.value_format, args.value_schema, args.message, registry)
    key = Side(MessageField.KEY, args.key_format, args.key_schema, args.key_message, registry) if args.key_format else None
    value_deserializer = value.deserializer()
    key_deserializer = key.deserializer() if key else None
    consumer = Consumer(
        {
            'bootstrap.servers': args.bootstrap,
            'group.id': f'confluent-peer-{uuid.uuid4()}',
            'auto.offset.reset': 'earliest',
            'enable.auto.commit': False,
            'enable.partition.eof': False,
        }
    )
    deadline = time.monotonic() + args.timeout
    # Assigned, not subscribed: no group join (seconds), and every partition from its start.
    if args.partition is not None:
        partitions = [args.partition]
    else:
        metadata = consumer.list_topics(args.topic, timeout=max(1.0, deadline - time.monotonic()))
        topic_metadata = metadata.topics.get(args.topic)
        if topic_metadata is None or topic_metadata.error is not None:
            fail(f'topic {args.topic}: {topic_metadata.error if topic_metadata else "not found"}')
        partitions = sorted(topic_metadata.partitions)
    consumer.assign([TopicPartition(args.topic, p, OFFSET_BEGINNING) for p in partitions])
    seen = 0
    try:
        while seen < args.count:
            left = deadline - time.monotonic()
            if left <= 0:
                fail(f'{seen} of {args.count} record(s) arrived within {args.timeout} s')
            msg = consumer.poll(min(left, 1.0))
            if msg is None:
                continue
            if msg.error():
                if msg.error().retriable() or 'UNKNOWN_TOPIC' in msg.error().name():
                    continue
                fail(f'consume: {msg.error()}')
            try:
                key_json = key.decode(key_deserializer, msg.key(), args.topic) if key else raw_key(msg.key())
                value_json = value.decode(value_deserializer, msg.value(), args.topic)
            except SystemExit:
                raise
            except Exception as e:
                fail(f'{args.topic}[{msg.partition()}]@{msg.offset()}: {type(e).__name__}: {e}')
            sys.stdout.write(dumps({'key': key_json, 'value': value_json}) + '\n')
            sys.stdout.flush()
            seen += 1
    finally:
        consumer.close()


def raw_key(data):
    if data is None:
        return None
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        fail(f'a key that is not UTF-8 ({data[:16].hex()}): give --key-format')


def create_topic(args):
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({'bootstrap.servers': args.bootstrap})
    futures = admin.create_topics([NewTopic(args.topic, num_partitions=args.partitions, replication_factor=1)], operation_timeout=30)
    try:
        futures[args.topic].result(30)
    except Exception as e:
        fail(f'create-topic {args.topic}: {e}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    commands = parser.add_subparsers(dest='command', required=True)
    command = commands.add_parser('create-topic')
    command.add_argument('--bootstrap', required=True)
    command.add_argument('--topic', required=True)
    command.add_argument('--partitions', type=int, default=1)
    for name in ('produce', 'consume'):
        command = commands.add_parser(name)
        command.add_argument('--bootstrap', required=True, help='HOST:PORT of a PLAINTEXT listener')
        command.add_argument('--registry', required=True, help='the Confluent API base URL')
        command.add_argument('--topic', required=True)
        command.add_argument('--value-format', required=True, choices=FORMATS[:3])
        command.add_argument('--value-schema', help='.avsc, JSON Schema or .proto file')
        command.add_argument('--message', help='the protobuf message of the value (default: the first)')
        command.add_argument('--key-format', choices=FORMATS)
        command.add_argument('--key-schema')
        command.add_argument('--key-message', help='the protobuf message of the key (default: the first)')
        command.add_argument('--partition', type=int)
        if name == 'produce':
            command.add_argument('--envelope', action='store_true', help='lines are {"key": ..., "value": ...}')
        else:
            command.add_argument('--count', type=int, required=True)
            command.add_argument('--timeout', type=float, default=30.0)
    args = parser.parse_args()
    if args.command == 'create-topic':
        return create_topic(args)
    registry = RegistryClient({'url': args.registry})
    try:
        (produce if args.command == 'produce' else consume)(args, registry)
    except KafkaException as e:
        fail(str(e))


if __name__ == '__main__':
    main()
