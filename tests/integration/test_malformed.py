"""Malformed requests over raw HTTP get DynamoDB's errors, every response
carries x-amzn-RequestId and a correct x-amz-crc32, and the server keeps
serving afterwards."""

import http.client
import json
import socket
import sys
import unittest
import urllib.parse
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))

from eddy_server import EddyServer  # noqa: E402

SERIALIZATION = "com.amazon.coral.service#SerializationException"
UNKNOWN_OPERATION = "com.amazon.coral.service#UnknownOperationException"
# DynamoDB sends constraint violations as coral.validate; DESIGN.md's generic
# error shape uses the service namespace. boto3 reads only the part after '#'.
VALIDATION = ("com.amazon.coral.validate#ValidationException",
              "com.amazonaws.dynamodb.v20120810#ValidationException")
TARGET = "DynamoDB_20120810."
MAX_BODY = 16 * 1024 * 1024


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def json(self):
        return json.loads(self.body)

    @property
    def error_type(self):
        return self.json().get("__type")


class MalformedRequestIntegrationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = EddyServer().start()
        cls.ddb = cls.server.client()
        url = urllib.parse.urlparse(cls.server.endpoint)
        cls.host, cls.port = url.hostname, url.port
        cls.table = f"malformed-{id(cls) % 100000}"
        cls.ddb.create_table(TableName=cls.table, BillingMode="PAY_PER_REQUEST",
                             KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])
        cls.valid_put = json.dumps({"TableName": cls.table,
                                    "Item": {"p": {"S": "x"}, "v": {"N": "1"}}})

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def tearDown(self):
        self.assertServing()

    # -- helpers --------------------------------------------------------------

    def post(self, body, operation="PutItem", target=None, headers=None, method="POST"):
        """Send one signed request on a fresh connection and return the Response."""
        if isinstance(body, str):
            body = body.encode()
        if target is None and operation is not None:
            target = TARGET + operation
        all_headers = self.server.signed_headers(target, body, headers)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, "/", body=body, headers=all_headers)
            r = conn.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            conn.close()

    def assertServing(self):
        """The server answers GET / and a normal ListTables."""
        self.assertTrue(self.server.is_running(), "server process died")
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        conn.request("GET", "/")
        self.assertEqual(conn.getresponse().status, 200)
        conn.close()
        self.assertIn(self.table, self.ddb.list_tables()["TableNames"])

    def assertWellFormed(self, response):
        """DynamoDB's response headers: a request id and the body's CRC32."""
        self.assertTrue(response.headers.get("x-amzn-requestid"), "missing x-amzn-RequestId")
        self.assertEqual(response.headers.get("x-amz-crc32"), str(zlib.crc32(response.body)))

    def assertRejected(self, response, *types):
        """HTTP 400 with one of the given __type values, and well-formed headers."""
        self.assertEqual(response.status, 400, response.body[:300])
        self.assertWellFormed(response)
        self.assertIn(response.error_type, types, response.body[:300])

    def send_oversized(self, size, chunked):
        """Stream a body of `size` bytes over a raw socket; return the HTTP status."""
        filler = b"x" * 65536
        headers = self.server.signed_headers(TARGET + "PutItem", b"")
        headers["Host"] = f"{self.host}:{self.port}"
        if chunked:
            headers["Transfer-Encoding"] = "chunked"
        else:
            headers["Content-Length"] = str(size)
        head = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock = socket.create_connection((self.host, self.port), timeout=30)
        received = b""
        try:
            sock.sendall(head.encode() + b"\r\n")
            sent = 0
            try:
                while sent < size:
                    piece = filler[:min(len(filler), size - sent)]
                    if chunked:
                        piece = b"%x\r\n" % len(piece) + piece + b"\r\n"
                    sock.sendall(piece)
                    sent += len(filler)
                if chunked:
                    sock.sendall(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may answer and close before reading everything
            try:
                while b"\r\n" not in received:
                    part = sock.recv(65536)
                    if not part:
                        break
                    received += part
            except ConnectionResetError:
                pass
        finally:
            sock.close()
        self.assertTrue(received.startswith(b"HTTP/1.1 "), f"no HTTP response: {received[:100]!r}")
        return int(received.split(b" ", 2)[1])

    # -- health and headers -----------------------------------------------------

    def test_get_root_is_healthy(self):
        """GET / answers 200 (the health check)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        conn.request("GET", "/")
        self.assertEqual(conn.getresponse().status, 200)
        conn.close()

    def test_success_has_request_id_and_crc32(self):
        """A successful response carries x-amzn-RequestId and the CRC32 of its body."""
        response = self.post(self.valid_put)
        self.assertEqual(response.status, 200)
        self.assertWellFormed(response)
        self.assertEqual(response.headers.get("content-type"), "application/x-amz-json-1.0")
        self.assertEqual(response.json(), {})

    def test_request_ids_are_unique(self):
        """Every response has its own request id."""
        ids = {self.post("{}", "ListTables").headers["x-amzn-requestid"] for _ in range(20)}
        self.assertEqual(len(ids), 20)

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        """HTTP/1.1 keep-alive: 50 requests travel over a single connection."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        body = b"{}"
        headers = self.server.signed_headers(TARGET + "ListTables", body)
        conn.request("POST", "/", body=body, headers=headers)
        first = conn.getresponse()
        first.read()
        sock = conn.sock
        for _ in range(49):
            conn.request("POST", "/", body=body, headers=headers)
            r = conn.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
            self.assertIs(conn.sock, sock, "server closed a keep-alive connection")
        conn.close()

    # -- operation routing ---------------------------------------------------

    def test_missing_target_is_unknown_operation(self):
        """A request without X-Amz-Target is UnknownOperationException."""
        self.assertRejected(self.post("{}", operation=None), UNKNOWN_OPERATION)

    def test_unknown_target_is_unknown_operation(self):
        """An unknown operation name is UnknownOperationException."""
        self.assertRejected(self.post("{}", "Frobnicate"), UNKNOWN_OPERATION)

    def test_unknown_service_prefix_is_unknown_operation(self):
        """A target with a foreign service prefix is UnknownOperationException."""
        self.assertRejected(self.post("{}", target="Kinesis_20131202.ListTables"),
                            UNKNOWN_OPERATION)

    # -- bodies that are not JSON ---------------------------------------------

    def test_garbage_body_is_serialization_exception(self):
        """A body that is not JSON is SerializationException."""
        self.assertRejected(self.post("habababa"), SERIALIZATION)

    def test_garbage_bodies(self):
        """Alternator's garbage bodies are all rejected as Serialization/Validation."""
        bodies = ["}}}", "}{", "habababa", "7", "124463gwe", "><#", "????", '"""', '{"""}',
                  '{""}', "{7}", "{3: }}", '{"2":{}', ",", "{,}", "{{}}", '"a": "b"', "{{{",
                  "null", "[]", '{"TableName": "abc",}', "\x00\x01\x02", "\xff\xfe"]
        for body in bodies:
            with self.subTest(body=body):
                self.assertRejected(self.post(body), SERIALIZATION, *VALIDATION)

    def test_prefixes_of_a_valid_body(self):
        """Truncating a valid PutItem body anywhere yields a clean 400."""
        body = self.valid_put
        for cut in range(0, len(body), 3):
            with self.subTest(prefix=body[:cut]):
                self.assertRejected(self.post(body[:cut]), SERIALIZATION, *VALIDATION)

    def test_ten_thousand_open_braces(self):
        """10,000 '{' (deeply nested, unterminated JSON) is a clean 400."""
        self.assertRejected(self.post("{" * 10000), SERIALIZATION, *VALIDATION)
        self.assertRejected(self.post("{" * 10000 + "}" * 9999), SERIALIZATION, *VALIDATION)

    def test_200000_deep_nested_json(self):
        """A 200,000-deep JSON value does not crash the server."""
        deep = '{"":' * 200000 + "{}" + "}" * 200000
        body = f'{{"TableName": "{self.table}", "Item": {{"p": {{"S": "d"}}, "a": {deep}}}}}'
        response = self.post(body)
        self.assertIn(response.status, (200, 400))
        self.assertWellFormed(response)

    def test_200000_deep_nested_attribute_value(self):
        """A 200,000-deep map AttributeValue is rejected, not a crash."""
        deep = '{"M": {"a": ' * 200000 + '{"S": "x"}' + "}}" * 200000
        body = f'{{"TableName": "{self.table}", "Item": {{"p": {{"S": "d"}}, "a": {deep}}}}}'
        self.assertRejected(self.post(body), SERIALIZATION, *VALIDATION)

    # -- JSON of the wrong shape ------------------------------------------------

    def test_table_name_as_number(self):
        """A number where TableName wants a string is SerializationException."""
        self.assertRejected(self.post('{"TableName": 123, "Item": {"p": {"S": "x"}}}'),
                            SERIALIZATION)

    def test_item_as_list(self):
        """A list where Item wants a map is SerializationException."""
        self.assertRejected(self.post(json.dumps({"TableName": self.table, "Item": []})),
                            SERIALIZATION)

    def test_number_value_as_json_number(self):
        """{"N": 123} (not a string) is SerializationException."""
        body = json.dumps({"TableName": self.table, "Item": {"p": {"S": "x"}, "n": {"N": 123}}})
        self.assertRejected(self.post(body), SERIALIZATION)

    def test_limit_as_string(self):
        """A string where Limit wants an integer is SerializationException."""
        body = json.dumps({"TableName": self.table, "Limit": "ten"})
        self.assertRejected(self.post(body, "Scan"), SERIALIZATION)

    def test_boolean_as_map(self):
        """A map where ConsistentRead wants a boolean is SerializationException."""
        body = json.dumps({"TableName": self.table, "Key": {"p": {"S": "x"}},
                           "ConsistentRead": {}})
        self.assertRejected(self.post(body, "GetItem"), SERIALIZATION)

    def test_invalid_base64_binary(self):
        """A B value that is not base64 is rejected."""
        body = json.dumps({"TableName": self.table, "Item": {"p": {"S": "x"}, "b": {"B": "!!!"}}})
        self.assertRejected(self.post(body), SERIALIZATION, *VALIDATION)

    def test_missing_required_parameter(self):
        """PutItem without Item is a ValidationException."""
        self.assertRejected(self.post(json.dumps({"TableName": self.table})), *VALIDATION)

    # -- size ---------------------------------------------------------------

    def test_17_mb_body_with_content_length(self):
        """A 17 MB body announced by Content-Length is refused with 413."""
        self.assertEqual(self.send_oversized(17 * 1024 * 1024, chunked=False), 413)

    def test_17_mb_chunked_body(self):
        """A 17 MB chunked body is refused with 413."""
        self.assertEqual(self.send_oversized(17 * 1024 * 1024, chunked=True), 413)

    def test_body_just_under_limit_is_read(self):
        """A 15 MB body is read and judged on its content (here: too big an item)."""
        body = json.dumps({"TableName": self.table,
                           "Item": {"p": {"S": "x"}, "big": {"S": "x" * (15 * 1024 * 1024)}}})
        self.assertLess(len(body), MAX_BODY)
        response = self.post(body)
        self.assertRejected(response, *VALIDATION)
        self.assertEqual(response.json().get("message"),
                         "Item size has exceeded the maximum allowed size")

    # -- non-API requests -----------------------------------------------------

    def test_other_methods_are_not_found(self):
        """Methods other than POST (and GET /) get 404, as in DynamoDB."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        conn.request("DELETE", "/")
        response = conn.getresponse()
        response.read()
        conn.close()
        self.assertEqual(response.status, 404)


if __name__ == "__main__":
    unittest.main()
