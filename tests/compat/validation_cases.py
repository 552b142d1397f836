"""Table-driven checks of DynamoDB's answers to invalid requests.

Each case is one request (operation + raw JSON body, sent signed over raw
HTTP so that any JSON shape reaches the server) and DynamoDB's exact
answer: HTTP status, full __type, and the message, under the key DynamoDB
uses for that error ("message", or "Message" for SerializationException).
A ValidationCase class turns every case into its own test method, so each
case passes or fails on its own.

Where the texts come from (each case says which, in `source`):
  dynalite  - dynalite's test suite (mhart/dynalite, architect/dynalite
              test/*.js), which runs against real DynamoDB; its modern
              helpers record today's deserializer texts ("NUMBER_VALUE
              cannot be converted to String", "Unexpected field type", ...).
  catalogue - a 2026 catalogue of DynamoDB's answers to degenerate requests
              (ack-api-quirks, verified against the service).
  moto      - moto's tests that are verified against AWS.
  eddy      - no public record of DynamoDB's text exists for this input;
              the expectation is Eddy's own behaviour (kept to a minimum and
              marked where used).

Messages:
  "text"               exact;
  Unordered([...])     an aggregated "N validation error(s) detected: ..."
                       whose violations are compared as a set (the source
                       records the violations but not their order);
  Regex(r"...")        searched in the message (the source gives a pattern,
                       e.g. DynamoDB's rendering of a map value).
"""

import http.client
import json
import re
import urllib.parse

from eddy_server import EddyTestCase

SERIALIZATION = "com.amazon.coral.service#SerializationException"
VALIDATION = "com.amazon.coral.validate#ValidationException"
NOT_FOUND = "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
IN_USE = "com.amazonaws.dynamodb.v20120810#ResourceInUseException"
CONDITIONAL = "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"
TARGET = "DynamoDB_20120810."


class Unordered:
    """An aggregated constraint message compared as a set of violations."""

    def __init__(self, violations):
        self.violations = list(violations)

    def __repr__(self):
        return f"Unordered({self.violations!r})"


class Regex:
    def __init__(self, pattern):
        self.pattern = pattern

    def __repr__(self):
        return f"Regex({self.pattern!r})"


def violation(value, path, constraint):
    """One "Value '...' at '...' failed to satisfy constraint: ..." piece."""
    rendered = "null" if value is None else f"'{value}'"
    return f"Value {rendered} at '{path}' failed to satisfy constraint: {constraint}"


def aggregated(*violations):
    """The exact aggregated message with the violations in this order."""
    n = len(violations)
    return (f"{n} validation error{'s' if n != 1 else ''} detected: "
            + "; ".join(violations))


NOT_NULL = "Member must not be null"
TABLE_PATTERN = "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
MIN3 = "Member must have length greater than or equal to 3"
MAX255 = "Member must have length less than or equal to 255"
RCC_ENUM = "Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"
RV_ENUM = ("Member must satisfy enum value set: "
           "[ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]")
RICM_ENUM = "Member must satisfy enum value set: [SIZE, NONE]"
CO_ENUM = "Member must satisfy enum value set: [OR, AND]"
SELECT_ENUM = ("Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, "
               "ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]")
OP_ENUM = ("Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, "
           "GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]")
INVALID = "One or more parameter values were invalid: "
EMPTY_VALUE = ("Supplied AttributeValue is empty, must contain exactly one of the "
               "supported datatypes")
MULTIPLE_TYPES = ("Supplied AttributeValue has more than one datatypes set, must contain "
                  "exactly one of the supported datatypes")
NOT_FOUND_TEXT = "Requested resource not found"
KEY_SCHEMA = "The provided key element does not match the schema"
PARAMETERIZED_CAST = (
    "class sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl cannot be cast to "
    "class java.lang.Class (sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl "
    "and java.lang.Class are in module java.base of loader 'bootstrap')")
MODEL = "com.amazonaws.dynamodb.v20120810."

# -- DynamoDB's deserializer texts, per expected type (dynalite's helpers) --

START_OF_MAP = "Start of structure or map found where not expected"
TYPE_MESSAGES = {
    "String": [
        (True, "TRUE_VALUE cannot be converted to String"),
        (False, "FALSE_VALUE cannot be converted to String"),
        (23, "NUMBER_VALUE cannot be converted to String"),
        (-2147483648, "NUMBER_VALUE cannot be converted to String"),
        (2147483648, "NUMBER_VALUE cannot be converted to String"),
        (34.56, "DECIMAL_VALUE cannot be converted to String"),
        ([], "Unrecognized collection type class java.lang.String"),
        ({}, START_OF_MAP),
    ],
    "Boolean": [
        ("23", "Unexpected token received from parser"),
        (23, "NUMBER_VALUE cannot be converted to Boolean"),
        (2147483648, "NUMBER_VALUE cannot be converted to Boolean"),
        (34.56, "DECIMAL_VALUE cannot be converted to Boolean"),
        ([], "Unrecognized collection type class java.lang.Boolean"),
        ({}, START_OF_MAP),
    ],
    "Integer": [
        ("23", "STRING_VALUE cannot be converted to Integer"),
        (True, "TRUE_VALUE cannot be converted to Integer"),
        (False, "FALSE_VALUE cannot be converted to Integer"),
        ([], "Unrecognized collection type class java.lang.Integer"),
        ({}, START_OF_MAP),
    ],
    "Long": [
        ("23", "STRING_VALUE cannot be converted to Long"),
        (True, "TRUE_VALUE cannot be converted to Long"),
        (False, "FALSE_VALUE cannot be converted to Long"),
        ([], "Unrecognized collection type class java.lang.Long"),
        ({}, START_OF_MAP),
    ],
    "Blob": [
        (True, "only base-64-encoded strings are convertible to bytes"),
        (23, "only base-64-encoded strings are convertible to bytes"),
        (34.56, "only base-64-encoded strings are convertible to bytes"),
        ([], "Unrecognized collection type class java.nio.ByteBuffer"),
        ({}, START_OF_MAP),
        ("23456", "Base64 encoded length is expected a multiple of 4 bytes but found: 5"),
        ("=+/=", "Invalid last non-pad Base64 character dectected"),
        ("+/+=", "Invalid last non-pad Base64 character dectected"),
    ],
    "List": [
        ("23", "Unexpected field type"),
        (True, "Unexpected field type"),
        (23, "Unexpected field type"),
        (34.56, "Unexpected field type"),
        ({}, START_OF_MAP),
    ],
    "ParameterizedList": [
        ("23", PARAMETERIZED_CAST),
        (23, PARAMETERIZED_CAST),
        ({}, START_OF_MAP),
    ],
    "ParameterizedMap": [
        (True, PARAMETERIZED_CAST),
        ([], "Unrecognized collection type java.util.Map<java.lang.String, "
             "com.amazonaws.dynamodb.v20120810.AttributeValue>"),
    ],
}


def map_messages(value_type):
    """Map<X> in a field: scalars and a list."""
    fqn = value_type if "." in value_type else MODEL + value_type
    return [("23", "Unexpected field type"), (True, "Unexpected field type"),
            (23, "Unexpected field type"), (34.56, "Unexpected field type"),
            ([], f"Unrecognized collection type java.util.Map<java.lang.String, {fqn}>")]


def struct_messages(type_name, field):
    """A structure as a field (FieldStruct) or as a list element / map value
    (ValueStruct)."""
    scalar = "Unexpected field type" if field else "Unexpected value type in payload"
    return [("23", scalar), (True, scalar), (23, scalar), (34.56, scalar),
            ([], f"Unrecognized collection type class {MODEL}{type_name}")]


def nest(path, value):
    """dynalite's assertType body: "Key.Attr.S" -> {"Key": {"Attr": {"S": v}}};
    a "0" piece makes a list."""
    pieces = path.split(".")
    data = {}
    child = data
    for i, piece in enumerate(pieces[:-1]):
        nxt = [] if pieces[i + 1] == "0" else {}
        if isinstance(child, list):
            child.append(nxt)
        else:
            child[piece] = nxt
        child = nxt
    if isinstance(child, list):
        child.append(value)
    else:
        child[pieces[-1]] = value
    return data


def type_cases(op, path, type_name, limit=None, messages=None):
    """SerializationException cases for a member of the wrong JSON type."""
    if messages is None:
        if type_name.startswith("Map<"):
            messages = map_messages(type_name[4:-1])
        elif type_name.startswith("FieldStruct<"):
            messages = struct_messages(type_name[12:-1], field=True)
        elif type_name.startswith("ValueStruct<"):
            messages = struct_messages(type_name[12:-1], field=False)
        else:
            messages = TYPE_MESSAGES[type_name]
    if limit is not None:
        messages = messages[:limit]
    return [case(f"{path} as {json.dumps(value)}", op, nest(path, value),
                 SERIALIZATION, text, source="dynalite")
            for value, text in messages]


def attr_struct_cases(op, path, container="ValueStruct"):
    """dynalite's AttrStruct checks: the value itself and each of its members."""
    cases = type_cases(op, path, f"{container}<AttributeValue>", limit=None)[::2]
    for sub, kind, pick in [
            ("S", "String", 2), ("N", "String", 0), ("B", "Blob", 5), ("B", "Blob", 6),
            ("BOOL", "Boolean", 0), ("NULL", "Boolean", 1), ("SS", "List", 0),
            ("SS.0", "String", 3), ("NS", "List", 4), ("NS.0", "String", 5),
            ("BS", "List", 2), ("BS.0", "Blob", 0), ("BS.0", "Blob", 7),
            ("L", "List", 1), ("M", "Map<AttributeValue>", 4)]:
        value, text = (map_messages("AttributeValue") if kind.startswith("Map<")
                       else TYPE_MESSAGES[kind])[pick]
        cases.append(case(f"{path}.{sub} as {json.dumps(value)}", op,
                          nest(f"{path}.{sub}", value), SERIALIZATION, text,
                          source="dynalite"))
    for sub in ("L.0", "M.a"):
        for value, text in struct_messages("AttributeValue", field=False)[1::3]:
            cases.append(case(f"{path}.{sub} as {json.dumps(value)}", op,
                              nest(f"{path}.{sub}", value), SERIALIZATION, text,
                              source="dynalite"))
    return cases


def case(name, op, body, error_type, message, status=400, source="dynalite"):
    return {"name": name, "op": op, "body": body, "type": error_type,
            "message": message, "status": status, "source": source}


def validation(name, op, body, message, source="dynalite"):
    return case(name, op, body, VALIDATION, message, source=source)


def slug(text):
    return re.sub(r"[^a-zA-Z0-9]+", "_", text).strip("_")[:60].lower()


class ValidationCase(EddyTestCase):
    """Base class: CASES (filled by subclasses) become test methods.

    Bodies may name the class's tables with "{hash}" (key a:S), "{range}"
    (a:S, b:S) and "{binary}" (a:S, b:B); "{missing}" is a table that does
    not exist.
    """

    CASES = []

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.names = {
            "hash": cls.create_table(hash_key=("a", "S")),
            "range": cls.create_table(hash_key=("a", "S"), range_key=("b", "S")),
            "binary": cls.create_table(hash_key=("a", "S"), range_key=("b", "B")),
            "missing": cls.unique_name("gone"),
        }
        url = urllib.parse.urlparse(cls.server.endpoint)
        cls.host, cls.port = url.hostname, url.port

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        seen = set()
        for i, c in enumerate(cls.CASES):
            name = f"test_{slug(c['op'])}_{i:03d}_{slug(c['name'])}"
            assert name not in seen, name
            seen.add(name)
            setattr(cls, name, cls._make_test(c))

    @staticmethod
    def _make_test(c):
        def test(self):
            self.check(c)
        test.__doc__ = f"{c['op']}: {c['name']} ({c['source']})"
        return test

    def substitute(self, value):
        if isinstance(value, str):
            for key, name in self.names.items():
                value = value.replace("{" + key + "}", name)
            return value
        if isinstance(value, list):
            return [self.substitute(v) for v in value]
        if isinstance(value, dict):
            return {self.substitute(k): self.substitute(v) for k, v in value.items()}
        return value

    def send(self, op, body):
        raw = body if isinstance(body, (bytes, str)) else json.dumps(self.substitute(body))
        if isinstance(raw, str):
            raw = raw.encode()
        headers = self.server.signed_headers(TARGET + op, raw)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request("POST", "/", body=raw, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def check(self, c):
        status, raw = self.send(c["op"], c["body"])
        body = json.loads(raw)
        self.assertEqual(status, c["status"], raw[:400])
        self.assertEqual(body.get("__type"), c["type"], raw[:400])
        key = "Message" if c["type"] == SERIALIZATION else "message"
        self.assertIn(key, body, f"the message goes under {key!r}: {raw[:400]}")
        message = body[key]
        expected = c["message"]
        if isinstance(expected, Unordered):
            n = len(expected.violations)
            prefix = f"{n} validation error{'s' if n != 1 else ''} detected: "
            self.assertTrue(message.startswith(prefix), message)
            self.assertCountEqual(message[len(prefix):].split("; "),
                                  [self.substitute(v) for v in expected.violations])
        elif isinstance(expected, Regex):
            self.assertRegex(message, self.substitute(expected.pattern))
        else:
            self.assertEqual(message, self.substitute(expected))

