#!/usr/bin/env python3
"""Generate RunnelWire's Kafka message codecs from the project's descriptions of Kafka's messages.

Usage: tools/codegen/generate.py [--messages DIR] [--out DIR] [--tests-out DIR] [--check]

Reads tools/codegen/messages/<Api>.txt for each API in MESSAGES (the format is in README.md beside
this file), restricted to the version range given there, and writes one Swift file per message into
Sources/RunnelWire/Generated/, plus the KafkaRequest/KafkaResponse dispatch enums and test sample
builders. Python 3 stdlib only. The output is committed; `make codegen` reruns it after a change to
this file, the table or a description, and `make test` runs --check.
"""
import argparse
import json
import os
import re
import sys

# (spec base name, ApiKey case, lowest version, highest version) -- the versions we speak.
MESSAGES = [
    ("Produce", "produce", 0, 9),  # broker answers 0-2 with UNSUPPORTED_VERSION
    ("Fetch", "fetch", 4, 12),
    ("ListOffsets", "listOffsets", 1, 7),
    ("Metadata", "metadata", 0, 12),
    ("OffsetCommit", "offsetCommit", 0, 9),
    ("OffsetFetch", "offsetFetch", 1, 7),  # 8+ batches groups: a different shape
    ("FindCoordinator", "findCoordinator", 0, 4),
    ("JoinGroup", "joinGroup", 0, 7),
    ("Heartbeat", "heartbeat", 0, 4),
    ("LeaveGroup", "leaveGroup", 0, 4),
    ("SyncGroup", "syncGroup", 0, 4),
    ("DescribeGroups", "describeGroups", 0, 5),
    ("ListGroups", "listGroups", 0, 4),
    ("ApiVersions", "apiVersions", 0, 3),
    ("CreateTopics", "createTopics", 2, 5),
    ("DeleteTopics", "deleteTopics", 1, 4),
    ("DeleteRecords", "deleteRecords", 0, 2),
    ("InitProducerId", "initProducerId", 0, 4),
    ("OffsetForLeaderEpoch", "offsetForLeaderEpoch", 2, 4),
    ("DescribeConfigs", "describeConfigs", 1, 4),
    ("AlterConfigs", "alterConfigs", 0, 2),
    ("CreatePartitions", "createPartitions", 0, 3),
    ("DeleteGroups", "deleteGroups", 0, 2),
    ("IncrementalAlterConfigs", "incrementalAlterConfigs", 0, 1),
    ("DescribeCluster", "describeCluster", 0, 1),
]

MAX_VERSION = 0x7FFF
SWIFT_TYPES = {
    "int8": "Int8", "int16": "Int16", "uint16": "UInt16", "int32": "Int32", "int64": "Int64",
    "uint32": "UInt32", "float64": "Double", "bool": "Bool", "string": "String", "bytes": "[UInt8]",
    "records": "ByteBuffer", "uuid": "KafkaUUID",
}
FIXED_READERS = {
    "int8": "Int8", "int16": "Int16", "uint16": "UInt16", "int32": "Int32", "int64": "Int64",
    "uint32": "UInt32", "float64": "Float64", "bool": "Bool", "uuid": "UUID",
}
RESERVED_TYPE_NAMES = {"ByteBuffer", "WireError", "ApiKey", "ErrorCode", "KafkaUUID", "String", "Int16", "Int32"}
SWIFT_KEYWORDS = {
    "protocol", "default", "internal", "operator", "class", "struct", "enum", "func", "var", "let", "in",
    "is", "as", "self", "init", "return", "static", "where", "repeat", "extension", "import", "public",
    "private", "switch", "case", "for", "while", "if", "else", "guard", "nil", "true", "false", "throw",
    "throws", "try", "catch", "do", "break", "continue", "subscript", "typealias", "inout", "super", "any",
}


FIELD_KEYS = {"versions": "versions", "nullable": "nullableVersions", "tagged": "taggedVersions",
              "tag": "tag", "default": "default"}


def read_description(path):
    """Parses one API's description into (api line attributes, {message name: spec}), where each spec
    has the shape of a Kafka message spec reduced to what the generator reads: name, validVersions,
    flexibleVersions, fields and commonStructs; each field name, type, versions, nullableVersions,
    taggedVersions, tag, ignorable, default and, for an inline struct, fields.

    Lines: `api NAME key=N versions=LO-HI kafka=VERSION`, then per message `request NAME [flexible=V]`
    or `response NAME [flexible=V]`, its fields indented two spaces per level under it as
    `Name type key=value... [ignorable]`, and its shared structs as `struct Name` at field level."""
    api, messages = None, {}
    stack = []  # (indent, list that lines at a deeper indent append to)

    def fail(n, why):
        sys.exit(f"{path}:{n}: {why}")

    with open(path) as fh:
        for n, line in enumerate(fh, 1):
            text = line.split("#", 1)[0].rstrip()
            if not text:
                continue
            indent = len(text) - len(text.lstrip(" "))
            words = text.split()
            if indent == 0:
                attrs = dict(w.split("=", 1) for w in words[2:] if "=" in w)
                if words[0] == "api":
                    api = {"name": words[1], **attrs}
                elif words[0] in ("request", "response"):
                    if api is None:
                        fail(n, "a message before the api line")
                    spec = {"name": words[1], "validVersions": api["versions"], "fields": [], "commonStructs": []}
                    if "flexible" in attrs:
                        spec["flexibleVersions"] = attrs["flexible"]
                    messages[words[1]] = spec
                    stack = [(0, spec["fields"])]
                else:
                    fail(n, f"unknown line kind {words[0]!r}")
                continue
            if indent % 2 or not stack:
                fail(n, "fields are indented two spaces per level under a request or response line")
            while stack and stack[-1][0] >= indent:
                stack.pop()
            if not stack:
                fail(n, "indented deeper than the field it follows allows")
            if words[0] == "struct":
                if indent != 2:
                    fail(n, "a struct is declared at the first field level")
                common = {"name": words[1], "fields": []}
                spec["commonStructs"].append(common)
                stack.append((indent, common["fields"]))
                continue
            if len(words) < 3:
                fail(n, "a field is `Name type versions=V ...`")
            field = {"name": words[0], "type": words[1]}
            for w in words[2:]:
                if w == "ignorable":
                    field["ignorable"] = True
                    continue
                key, _, value = w.partition("=")
                if key not in FIELD_KEYS or not _:
                    fail(n, f"unknown field attribute {w!r}")
                field[FIELD_KEYS[key]] = int(value) if key == "tag" else ("" if value == '""' else value)
            if "versions" not in field:
                fail(n, f"field {field['name']} has no versions")
            stack[-1][1].append(field)
            field_children = []
            stack.append((indent, field_children))
            field["fields"] = field_children
    # Only inline structs keep a fields list.
    def prune(fields):
        for f in fields:
            if f["fields"]:
                prune(f["fields"])
            else:
                del f["fields"]
    for spec in messages.values():
        prune(spec["fields"])
        for c in spec["commonStructs"]:
            prune(c["fields"])
    if api is None:
        sys.exit(f"{path}: no api line")
    return api, messages


def parse_versions(spec):
    """'3+' -> (3, MAX), '0-14' -> (0, 14), '2' -> (2, 2), 'none'/None -> None."""
    if spec is None or spec == "none":
        return None
    if spec.endswith("+"):
        return (int(spec[:-1]), MAX_VERSION)
    if "-" in spec:
        lo, hi = spec.split("-")
        return (int(lo), int(hi))
    return (int(spec), int(spec))


def intersect(a, b):
    if a is None or b is None:
        return None
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo <= hi else None


def condition(vs, scope):
    """Swift condition on `version` selecting vs within scope; None when always true."""
    vs = intersect(vs, scope)
    if vs is None:
        return "false"
    parts = []
    if vs[0] > scope[0]:
        parts.append(f"version >= {vs[0]}")
    if vs[1] < scope[1]:
        parts.append(f"version <= {vs[1]}")
    return " && ".join(parts) if parts else None


def covers(outer, inner):
    return inner is None or (outer is not None and outer[0] <= inner[0] and outer[1] >= inner[1])


def camel(name):
    m = re.match(r"^([A-Z]+)(?=[A-Z][a-z]|$|[0-9])", name)
    head = m.group(1) if m else name[:1]
    return head.lower() + name[len(head):]


def ident(name):
    return f"`{name}`" if name in SWIFT_KEYWORDS else name


class Field:
    def __init__(self, raw, scope, owner):
        self.raw = raw
        self.name = camel(raw["name"])
        self.qualified = f"{owner}.{self.name}"
        t = raw["type"]
        self.is_array = t.startswith("[]")
        self.base = t[2:] if self.is_array else t
        self.is_struct = self.base not in SWIFT_TYPES
        self.versions = intersect(parse_versions(raw["versions"]), scope)
        self.nullable = intersect(parse_versions(raw.get("nullableVersions")), self.versions)
        self.tagged = intersect(parse_versions(raw.get("taggedVersions")), self.versions)
        self.tag = raw.get("tag")
        self.ignorable = raw.get("ignorable", False)
        default = raw.get("default")
        self.default = None if default is None else str(default)
        if self.tagged and self.tagged[1] != self.versions[1]:
            sys.exit(f"{self.qualified}: tagged versions must run to the field's last version")
        self.optional = self.nullable is not None or self.default == "null" or self.base == "records"

    @property
    def regular(self):
        """Versions in which the field is written inline (present and not tagged)."""
        if self.tagged is None:
            return self.versions
        return (self.versions[0], self.tagged[0] - 1) if self.tagged[0] > self.versions[0] else None

    def swift_type(self):
        elem = self.base if self.is_struct else SWIFT_TYPES[self.base]
        t = f"[{elem}]" if self.is_array else elem
        return t + "?" if self.optional else t

    def default_expr(self):
        if self.optional and (self.default == "null" or self.base == "records"):
            return "nil"
        if self.is_array:
            return "[]"
        if self.is_struct:
            return f"{self.base}()"
        d = self.default
        if self.base == "string":
            return json.dumps(d or "")
        if self.base == "bytes":
            return "[]"
        if self.base == "uuid":
            return "KafkaUUID.zero"
        if self.base == "bool":
            return d if d in ("true", "false") else "false"
        if self.base == "float64":
            return str(float(d)) if d else "0.0"
        if d is None or d == "":
            return "0"
        return str(int(d, 0))

    def non_default(self, value):
        d = self.default_expr()
        if self.is_array and not self.optional:
            return f"!{value}.isEmpty"
        if self.base == "bytes" and not self.optional:
            return f"!{value}.isEmpty"
        return f"{value} != {d}"


class Struct:
    def __init__(self, name, fields, scope, registry, common):
        self.name = name
        self.fields = []
        for raw in fields:
            f = Field(raw, scope, name)
            if f.versions is None:
                continue  # never present in the versions we speak
            if f.is_struct:
                if f.base in RESERVED_TYPE_NAMES:
                    sys.exit(f"{f.qualified}: struct name {f.base} would shadow a RunnelWire type")
                if "fields" in raw:
                    if f.base in registry:
                        sys.exit(f"{name}: struct {f.base} defined twice")
                    registry[f.base] = None  # reserve before recursing
                    registry[f.base] = Struct(f.base, raw["fields"], scope, registry, common)
                elif f.base not in registry:
                    if f.base not in common:
                        sys.exit(f"{f.qualified}: unknown struct {f.base}")
                    registry[f.base] = None
                    registry[f.base] = Struct(f.base, common[f.base]["fields"], scope, registry, common)
            self.fields.append(f)


class Emitter:
    """Writes decode/encode statements for one struct."""

    def __init__(self, struct, scope, flex):
        self.s, self.scope, self.flex = struct, scope, flex
        self.lines = []

    def out(self, indent, text):
        self.lines.append("    " * indent + text)

    def flexible_expr(self):
        if self.flex is None:
            return "false"
        return condition(self.flex, self.scope) or "true"

    # -- scalar reads/writes ------------------------------------------------------------------
    def read_scalar(self, base, buf, compact, nullable, field):
        if base in FIXED_READERS:
            return f"try {buf}.readKafka{FIXED_READERS[base]}()"
        if base == "records":
            return f"try {buf}.readKafkaNullableBytesSlice(compact: {compact})"
        kind = "String" if base == "string" else "Bytes"
        if nullable:
            return f"try {buf}.readKafkaNullable{kind}(compact: {compact})"
        return f'try {buf}.readKafka{kind}(compact: {compact}, field: "{field}")'

    def write_scalar(self, base, buf, compact, value, nullable, field):
        if base in FIXED_READERS:
            return f"{buf}.writeKafka{FIXED_READERS[base]}({value})"
        if base == "records":
            return f'try {buf}.writeKafkaNullableBytesSlice({value}, compact: {compact}, field: "{field}")'
        kind = "String" if base == "string" else "Bytes"
        null = "Nullable" if nullable else ""
        return f'try {buf}.writeKafka{null}{kind}({value}, compact: {compact}, field: "{field}")'

    def read_element(self, f, buf, compact):
        if f.is_struct:
            return f"try {f.base}(from: &{buf}, version: version)"
        return self.read_scalar(f.base, buf, compact, False, f.qualified)

    def write_element(self, f, buf, compact, value):
        if f.is_struct:
            return f"try {value}.encode(into: &{buf}, version: version)"
        return self.write_scalar(f.base, buf, compact, value, False, f.qualified)

    # -- one field --------------------------------------------------------------------------
    def null_check(self, f):
        """Condition under which null is allowed, relative to the field's own versions."""
        return condition(f.nullable, f.versions) if f.nullable else "false"

    def decode_field(self, f, ind, buf, compact):
        target = f"self.{ident(f.name)}"
        if f.is_array:
            elem_type = f.base if f.is_struct else SWIFT_TYPES[f.base]
            count, items = f"{f.name}Count", f"{f.name}Items"
            if f.optional:
                self.out(ind, f"if let {count} = try {buf}.readKafkaArrayCount(compact: {compact}) {{")
            else:
                self.out(ind, f"guard let {count} = try {buf}.readKafkaArrayCount(compact: {compact}) else {{")
                self.out(ind + 1, f'throw WireError.unexpectedNull(field: "{f.qualified}")')
                self.out(ind, "}")
                ind -= 1
            self.out(ind + 1, f"var {items}: [{elem_type}] = []")
            self.out(ind + 1, f"{items}.reserveCapacity(Swift.min({count}, WireLimits.arrayReserveMax))")
            self.out(ind + 1, f"for _ in 0..<{count} {{")
            self.out(ind + 2, f"{items}.append({self.read_element(f, buf, compact)})")
            self.out(ind + 1, "}")
            self.out(ind + 1, f"{target} = {items}")
            if f.optional:
                self.out(ind, "} else {")
                self.reject_null(f, ind + 1)
                self.out(ind + 1, f"{target} = nil")
                self.out(ind, "}")
            return
        if f.is_struct and f.optional:
            # A nullable struct is preceded by an int8: -1 for null, 1 for present.
            self.out(ind, f"if try {buf}.readKafkaInt8() < 0 {{")
            self.reject_null(f, ind + 1)
            self.out(ind + 1, f"{target} = nil")
            self.out(ind, "} else {")
            self.out(ind + 1, f"{target} = try {f.base}(from: &{buf}, version: version)")
            self.out(ind, "}")
            return
        if f.is_struct:
            self.out(ind, f"{target} = try {f.base}(from: &{buf}, version: version)")
            return
        if f.optional and f.base not in ("string", "bytes", "records"):
            sys.exit(f"{f.qualified}: nullable {f.base} is not supported")
        nullable_always = f.base == "records" or f.nullable is not None and covers(f.nullable, f.versions)
        if not f.optional or f.nullable is None and f.base != "records":
            self.out(ind, f"{target} = {self.read_scalar(f.base, buf, compact, False, f.qualified)}")
        elif nullable_always:
            self.out(ind, f"{target} = {self.read_scalar(f.base, buf, compact, True, f.qualified)}")
        else:
            value = f"{f.name}Value"
            self.out(ind, f"let {value} = {self.read_scalar(f.base, buf, compact, True, f.qualified)}")
            self.out(ind, f"if {value} == nil {{")
            self.reject_null(f, ind + 1)
            self.out(ind, "}")
            self.out(ind, f"{target} = {value}")

    def reject_null(self, f, ind):
        allowed = self.null_check(f)
        if allowed is None:
            return
        if allowed == "false":
            self.out(ind, f'throw WireError.unexpectedNull(field: "{f.qualified}")')
        else:
            self.out(ind, f'if !({allowed}) {{ throw WireError.unexpectedNull(field: "{f.qualified}") }}')

    def encode_field(self, f, ind, buf, compact):
        value = f"self.{ident(f.name)}"
        if f.is_array:
            if f.optional:
                self.out(ind, f"if let items = {value} {{")
                self.out(ind + 1, f'try {buf}.writeKafkaArrayCount(items.count, compact: {compact}, field: "{f.qualified}")')
                self.out(ind + 1, "for item in items {")
                self.out(ind + 2, self.write_element(f, buf, compact, "item"))
                self.out(ind + 1, "}")
                self.out(ind, "} else {")
                self.reject_null(f, ind + 1)
                self.out(ind + 1, f"try {buf}.writeKafkaArrayCount(nil, compact: {compact})")
                self.out(ind, "}")
            else:
                self.out(ind, f'try {buf}.writeKafkaArrayCount({value}.count, compact: {compact}, field: "{f.qualified}")')
                self.out(ind, f"for item in {value} {{")
                self.out(ind + 1, self.write_element(f, buf, compact, "item"))
                self.out(ind, "}")
            return
        if f.is_struct and f.optional:
            self.out(ind, f"if let present = {value} {{")
            self.out(ind + 1, f"{buf}.writeKafkaInt8(1)")
            self.out(ind + 1, f"try present.encode(into: &{buf}, version: version)")
            self.out(ind, "} else {")
            self.reject_null(f, ind + 1)
            self.out(ind + 1, f"{buf}.writeKafkaInt8(-1)")
            self.out(ind, "}")
            return
        if f.is_struct:
            self.out(ind, f"try {value}.encode(into: &{buf}, version: version)")
            return
        if not f.optional or f.base == "records" or (f.nullable and covers(f.nullable, f.versions)):
            self.out(ind, self.write_scalar(f.base, buf, compact, value, f.optional, f.qualified))
        else:
            self.out(ind, f"if {value} == nil {{")
            self.reject_null(f, ind + 1)
            self.out(ind, "}")
            self.out(ind, self.write_scalar(f.base, buf, compact, value, True, f.qualified))

    # -- whole struct -----------------------------------------------------------------------
    def decode_body(self, ind):
        for f in self.s.fields:
            cond = condition(f.regular, self.scope) if f.regular else "false"
            if cond == "false":
                continue
            if cond:
                self.out(ind, f"if {cond} {{")
            self.decode_field(f, ind + (1 if cond else 0), "buffer", "flexible")
            if cond:
                self.out(ind, "}")
        if self.flex is None:
            return
        tagged = sorted((f for f in self.s.fields if f.tagged), key=lambda f: f.tag)
        self.out(ind, "if flexible {")
        if not tagged:
            self.out(ind + 1, "try buffer.skipTaggedFields()")
        else:
            self.out(ind + 1, "let taggedCount = try buffer.readTaggedFieldCount()")
            self.out(ind + 1, "for _ in 0..<taggedCount {")
            self.out(ind + 2, "let field = try buffer.readTaggedField()")
            self.out(ind + 2, "var body = field.body")
            self.out(ind + 2, "switch field.tag {")
            for f in tagged:
                cond = condition(f.tagged, self.scope)
                self.out(ind + 2, f"case {f.tag}{' where ' + cond if cond else ''}:")
                self.decode_field(f, ind + 3, "body", "true")
            self.out(ind + 2, "default:")
            self.out(ind + 3, "break  // unknown tags are skipped")
            self.out(ind + 2, "}")
            self.out(ind + 1, "}")
        self.out(ind, "}")

    def encode_body(self, ind):
        for f in self.s.fields:
            if f.ignorable or covers(f.versions, self.scope):
                continue
            cond = condition(f.versions, self.scope)
            self.out(ind, f"if !({cond}) && {f.non_default('self.' + ident(f.name))} {{")
            self.out(ind + 1, f'throw WireError.fieldNotInVersion(field: "{f.qualified}", version: version)')
            self.out(ind, "}")
        for f in self.s.fields:
            cond = condition(f.regular, self.scope) if f.regular else "false"
            if cond == "false":
                continue
            if cond:
                self.out(ind, f"if {cond} {{")
            self.encode_field(f, ind + (1 if cond else 0), "buffer", "flexible")
            if cond:
                self.out(ind, "}")
        if self.flex is None:
            return
        tagged = sorted((f for f in self.s.fields if f.tagged), key=lambda f: f.tag)
        self.out(ind, "if flexible {")
        if not tagged:
            self.out(ind + 1, "buffer.writeEmptyTaggedFields()")
        else:
            guards = []
            for f in tagged:
                cond = condition(f.tagged, self.scope)
                nd = f.non_default("self." + ident(f.name))
                guards.append((f, f"{cond} && {nd}" if cond else nd))
            self.out(ind + 1, "var taggedCount: UInt32 = 0")
            for f, g in guards:
                self.out(ind + 1, f"if {g} {{ taggedCount += 1 }}")
            self.out(ind + 1, "buffer.writeUnsignedVarint(taggedCount)")
            for f, g in guards:
                self.out(ind + 1, f"if {g} {{")
                self.out(ind + 2, "var body = ByteBuffer()")
                self.encode_field(f, ind + 2, "body", "true")
                self.out(ind + 2, f"buffer.writeTaggedField(tag: {f.tag}, body: body)")
                self.out(ind + 1, "}")
        self.out(ind, "}")

    def with_flexible(self, body_lines, ind):
        if any("flexible" in line for line in body_lines):
            return ["    " * ind + f"let flexible = {self.flexible_expr()}"] + body_lines
        return body_lines


def version_doc(f):
    lo, hi = f.versions
    parts = [f"Version {lo}" if lo == hi else f"Versions {lo}-{hi}"]
    if f.nullable:
        parts.append(f"nullable from {f.nullable[0]}")
    if f.tagged:
        parts.append(f"tag {f.tag} from {f.tagged[0]}")
    if f.ignorable:
        parts.append("ignorable")
    return "/// " + ", ".join(parts) + "."


def emit_struct(struct, scope, flex, ind, header_lines, top_level):
    lines = []

    def out(i=0, text=""):
        lines.append(("    " * i + text) if text else "")

    lines.extend(header_lines)
    for f in struct.fields:
        out(ind + 1, version_doc(f))
        out(ind + 1, f"public var {ident(f.name)}: {f.swift_type()} = {f.default_expr()}")
    out()
    out(ind + 1, "public init() {}")
    if struct.fields:
        out()
        params = ", ".join(f"{f.name}: {f.swift_type()} = {f.default_expr()}" for f in struct.fields)
        out(ind + 1, f"public init({params}) {{")
        for f in struct.fields:
            out(ind + 2, f"self.{ident(f.name)} = {ident(f.name)}")
        out(ind + 1, "}")
    out()
    out(ind + 1, "public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {")
    if top_level:
        out(ind + 2, "guard Self.versions.contains(version) else {")
        out(ind + 3, "throw WireError.unsupportedVersion(apiKey: Self.apiKey, version: version)")
        out(ind + 2, "}")
    out(ind + 2, "self.init()")
    em = Emitter(struct, scope, flex)
    em.decode_body(ind + 2)
    lines.extend(em.with_flexible(em.lines, ind + 2))
    out(ind + 1, "}")
    out()
    out(ind + 1, "public func encode(into buffer: inout ByteBuffer, version: Int16) throws(WireError) {")
    if top_level:
        out(ind + 2, "guard Self.versions.contains(version) else {")
        out(ind + 3, "throw WireError.unsupportedVersion(apiKey: Self.apiKey, version: version)")
        out(ind + 2, "}")
    em = Emitter(struct, scope, flex)
    em.encode_body(ind + 2)
    lines.extend(em.with_flexible(em.lines, ind + 2))
    out(ind + 1, "}")
    return lines


def ordered_structs(struct, registry, seen=None):
    """Nested structs in first-use order."""
    seen = [] if seen is None else seen
    for f in struct.fields:
        if f.is_struct and f.base not in seen:
            seen.append(f.base)
            ordered_structs(registry[f.base], registry, seen)
    return seen


def check_elements_take_bytes(top, registry, flex):
    """The decoder rejects array counts above the remaining bytes, which is only sound if every
    element takes at least one byte. Flexible structs always do (their tag section); check the rest."""
    for struct in [top] + list(registry.values()):
        for f in struct.fields:
            if not (f.is_array and f.is_struct):
                continue
            for v in range(f.versions[0], f.versions[1] + 1):
                if flex and flex[0] <= v:
                    continue
                if not any(e.regular and e.regular[0] <= v <= e.regular[1] for e in registry[f.base].fields):
                    sys.exit(f"{f.qualified}: elements are empty in v{v}; the array count bound would be wrong")


HEADER = "// Generated by tools/codegen/generate.py from {spec}. Do not edit; rerun the generator (make codegen).\n"


def generate_message(spec, case, lo, hi, is_request, pair, source):
    scope = (lo, hi)
    valid = parse_versions(spec["validVersions"])
    if not covers(valid, scope):
        sys.exit(f"{spec['name']}: its description covers versions {spec['validVersions']}, not {lo}-{hi}")
    flex = intersect(parse_versions(spec.get("flexibleVersions")), scope)
    common = {c["name"]: c for c in spec.get("commonStructs", [])}
    registry = {}
    top = Struct(spec["name"], spec["fields"], scope, registry, common)
    check_elements_take_bytes(top, registry, flex)
    name = spec["name"]
    proto = "KafkaRequestMessage" if is_request else "KafkaResponseMessage"
    head = [f"public struct {name}: {proto}, Sendable, Equatable {{"]
    if is_request:
        head.append(f"    public typealias Response = {pair}")
    head.append(f"    public static let apiKey: ApiKey = .{case}")
    head.append(f"    public static let versions: ClosedRange<Int16> = {lo}...{hi}")
    head.append(f"    public static let flexibleVersions: PartialRangeFrom<Int16>? = {str(flex[0]) + '...' if flex else 'nil'}")
    head.append("")
    lines = [HEADER.format(spec=source), "import NIOCore", ""]
    lines += emit_struct(top, scope, flex, 0, head, True)
    for sname in ordered_structs(top, registry):
        lines.append("")
        lines += emit_struct(registry[sname], scope, flex, 1, [f"    public struct {sname}: Sendable, Equatable {{"], False)
        lines.append("    }")
    lines.append("}")
    return "\n".join(lines) + "\n", top, registry, scope


# -- test samples ---------------------------------------------------------------------------------

def sample_value(f, n, msg):
    if f.is_array:
        if f.is_struct:
            one = f"{msg}.{f.base}.sample(version: version, nulls: nulls)"
            return f"[{one}, {one}]"
        return f"[{scalar_sample(f.base, n)}, {scalar_sample(f.base, n + 1)}]"
    if f.is_struct:
        return f"{msg}.{f.base}.sample(version: version, nulls: nulls)"
    return scalar_sample(f.base, n)


def scalar_sample(base, n):
    if base == "string":
        return f'"s{n}"'
    if base == "bytes":
        return f"[{n % 256}, 1, 2]"
    if base == "records":
        return f"ByteBuffer(bytes: [{n % 256}, 9, 8, 7])"
    if base == "uuid":
        return f"KafkaUUID(high: {n}, low: {n * 7919})"
    if base == "bool":
        return "true"
    if base == "float64":
        return f"{n}.5"
    return str(n % 100 + 2)  # never 0, -1 or 1, the usual defaults


def emit_samples(struct, scope, qualified, msg):
    lines = [f"extension {qualified} {{",
             "    static func sample(version: Int16, nulls: Bool) -> Self {",
             "        var value = Self()"]
    for i, f in enumerate(struct.fields):
        val = sample_value(f, i + 3, msg)
        if f.base == "bool" and f.default == "true":
            val = "false"
        cond = condition(f.versions, scope)
        prefix = f"if {cond} {{ " if cond else ""
        suffix = " }" if cond else ""
        lines.append(f"        {prefix}value.{ident(f.name)} = {val}{suffix}")
        if f.nullable:
            ncond = condition(f.nullable, scope)
            lines.append(f"        if nulls{' && ' + ncond if ncond else ''} {{ value.{ident(f.name)} = nil }}")
    lines += ["        return value", "    }", "}", ""]
    return lines


def main():
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", default=os.path.join(root, "tools/codegen/messages"))
    ap.add_argument("--out", default=os.path.join(root, "Sources/RunnelWire/Generated"))
    ap.add_argument("--tests-out", default=os.path.join(root, "Tests/RunnelWireTests/Generated"))
    ap.add_argument("--check", action="store_true", help="exit 1 if the committed output is stale")
    args = ap.parse_args()
    if args.check:
        return check(args)
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.tests_out, exist_ok=True)
    samples = ["// Generated by tools/codegen/generate.py. Do not edit; rerun the generator.\n",
               "import NIOCore", "@testable import RunnelWire", ""]
    requests, responses = [], []
    for base, case, lo, hi in MESSAGES:
        path = os.path.join(args.messages, f"{base}.txt")
        api, specs = read_description(path)
        if api["name"] != base or set(specs) != {base + "Request", base + "Response"}:
            sys.exit(f"{path}: must describe the {base} API's request and response")
        source = f"tools/codegen/messages/{base}.txt (Kafka {api.get('kafka', '?')})"
        for kind in ("Request", "Response"):
            spec = specs[base + kind]
            text, top, registry, scope = generate_message(
                spec, case, lo, hi, kind == "Request", f"{base}Response", source)
            with open(os.path.join(args.out, f"{spec['name']}.swift"), "w") as fh:
                fh.write(text)
            samples += emit_samples(top, scope, spec["name"], spec["name"])
            for sname in ordered_structs(top, registry):
                samples += emit_samples(registry[sname], scope, f"{spec['name']}.{sname}", spec["name"])
            (requests if kind == "Request" else responses).append((case, spec["name"]))
    samples.append("let allSampledMessageTypes: [any SampledMessage.Type] = [")
    for case, name in requests + responses:
        samples.append(f"    {name}.self,")
    samples.append("]")
    samples.append("")
    for case, name in requests + responses:
        samples.append(f"extension {name}: SampledMessage {{}}")
    with open(os.path.join(args.tests_out, "Samples.swift"), "w") as fh:
        fh.write("\n".join(samples) + "\n")
    with open(os.path.join(args.out, "KafkaRequest.swift"), "w") as fh:
        fh.write(dispatch_enum("KafkaRequest", requests, "request"))
    with open(os.path.join(args.out, "KafkaResponse.swift"), "w") as fh:
        fh.write(dispatch_enum("KafkaResponse", responses, "response"))
    with open(os.path.join(args.out, "ApiKey+Versions.swift"), "w") as fh:
        fh.write(api_key_versions(requests))


def check(args):
    """Regenerate into a scratch directory and compare with what is committed."""
    import filecmp
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as scratch:
        out, tests = os.path.join(scratch, "src"), os.path.join(scratch, "tests")
        subprocess.run([sys.executable, os.path.abspath(__file__), "--messages", args.messages,
                        "--out", out, "--tests-out", tests], check=True)
        stale = []
        for fresh, committed in ((out, args.out), (tests, args.tests_out)):
            cmp = filecmp.dircmp(fresh, committed)
            stale += cmp.diff_files + cmp.left_only + cmp.right_only
        if stale:
            sys.exit(f"generated files are stale: {', '.join(sorted(stale))}")
        print("generated files are up to date")


def dispatch_enum(enum, items, noun):
    L = [HEADER.format(spec="tools/codegen/messages"), "import NIOCore", "",
         f"/// Any {noun} this codec speaks, tagged by API.",
         f"public enum {enum}: Sendable, Equatable {{"]
    L += [f"    case {case}({name})" for case, name in items]
    L += ["", "    public var apiKey: ApiKey {", "        switch self {"]
    L += [f"        case .{case}: return .{case}" for case, _ in items]
    L += ["        }", "    }", "",
          f"    /// Decodes a {noun} body of the given API and version.",
          f"    public static func decode(apiKey: ApiKey, version: Int16, from buffer: inout ByteBuffer) throws(WireError) -> {enum} {{",
          "        switch apiKey {"]
    L += [f"        case .{case}: return .{case}(try {name}(from: &buffer, version: version))" for case, name in items]
    L += ["        }", "    }", "",
          "    public func encode(into buffer: inout ByteBuffer, version: Int16) throws(WireError) {",
          "        switch self {"]
    L += [f"        case .{case}(let message): try message.encode(into: &buffer, version: version)" for case, _ in items]
    L += ["        }", "    }", "}", ""]
    return "\n".join(L)


def api_key_versions(requests):
    L = [HEADER.format(spec="tools/codegen/messages"), "extension ApiKey {",
         "    /// The versions this codec speaks for the API (requests and responses alike).",
         "    public var versions: ClosedRange<Int16> {", "        switch self {"]
    L += [f"        case .{case}: return {name}.versions" for case, name in requests]
    L += ["        }", "    }", "",
          "    /// Versions of the API that use compact encodings and tagged fields.",
          "    public var flexibleVersions: PartialRangeFrom<Int16>? {", "        switch self {"]
    L += [f"        case .{case}: return {name}.flexibleVersions" for case, name in requests]
    L += ["        }", "    }", "}", ""]
    return "\n".join(L)


if __name__ == "__main__":
    main()
