"""The HTTP layer of DynamoDB's checks, before any operation sees a request,
and CORS for browser clients.

DynamoDB's answers, as dynalite's test/connection.js records them against
the service: anything but a POST (GET / is the health check) and a POST
whose body has another content type get 404 "<UnknownOperationException/>";
a body that is not JSON is a SerializationException without a message; a
missing or unknown X-Amz-Target an UnknownOperationException without one;
then the signature; an empty body is a SerializationException. A request
with an Origin header gets Access-Control-Allow-Origin, and an OPTIONS
preflight with one is answered 200 with the requested methods and headers
and Access-Control-Max-Age 172800 (dynalite; Alternator's test_cors.py)."""

import http.client
import json
import re
import unittest
import urllib.parse
import zlib

from eddy_server import EddyServer, EddyTestCase

TARGET = "DynamoDB_20120810."
SERIALIZATION = {"__type": "com.amazon.coral.service#SerializationException"}
UNKNOWN_OPERATION = {"__type": "com.amazon.coral.service#UnknownOperationException"}
NOT_FOUND_BODY = b"<UnknownOperationException/>\n"
ORIGIN = "http://app.example.test"
CORS_HEADERS = ("access-control-allow-origin", "access-control-allow-methods",
                "access-control-allow-headers", "access-control-max-age",
                "access-control-expose-headers")
REQUEST_ID = re.compile(r"^[0-9A-Z]{52}$")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def json(self):
        return json.loads(self.body)


def request(server, method, body=b"", headers=None, target=None, sign=False):
    """One request on a fresh connection (signed when `sign`)."""
    url = urllib.parse.urlparse(server.endpoint)
    if isinstance(body, str):
        body = body.encode()
    all_headers = {}
    if sign:
        all_headers = server.signed_headers(target, body, headers)
    else:
        if target is not None:
            all_headers["X-Amz-Target"] = target
        all_headers.update(headers or {})
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request(method, "/", body=body if body or method == "POST" else None,
                     headers=all_headers)
        r = conn.getresponse()
        return Response(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


class HttpLayerTest(EddyTestCase):
    """DynamoDB's answers before an operation runs (in both compat modes)."""

    def send(self, method="POST", body=b"", headers=None, target=None, sign=False):
        return request(self.server, method, body, headers, target, sign)

    def assertWellFormed(self, response):
        self.assertRegex(response.headers.get("x-amzn-requestid", ""), REQUEST_ID)
        self.assertEqual(response.headers.get("x-amz-crc32"), str(zlib.crc32(response.body)))

    def assertNotFound(self, response):
        self.assertEqual(response.status, 404, response.body)
        self.assertEqual(response.body, NOT_FOUND_BODY)
        self.assertEqual(response.headers.get("x-amz-crc32"), "3552371480")
        self.assertWellFormed(response)

    def assertBare(self, response, expected, content_type):
        """400 with exactly this body (no message) and the request's type."""
        self.assertEqual(response.status, 400, response.body)
        self.assertEqual(response.json(), expected)
        self.assertEqual(response.headers.get("content-type"), content_type)
        self.assertWellFormed(response)

    # -- method and content type -------------------------------------------------

    def test_get_root_is_the_health_check(self):
        response = self.send("GET")
        self.assertEqual(response.status, 200)
        self.assertTrue(response.body.startswith(b"healthy: dynamodb."))

    def test_other_methods_are_not_found(self):
        for method in ("PUT", "DELETE", "PATCH"):
            with self.subTest(method=method):
                self.assertNotFound(self.send(method))

    def test_options_without_origin_is_not_found(self):
        self.assertNotFound(self.send("OPTIONS"))

    def test_body_without_content_type_is_not_found(self):
        self.assertNotFound(self.send(body="hi"))

    def test_body_with_another_content_type_is_not_found(self):
        for content_type in ("whatever", "text/plain", "application/x-amz-json-1.1",
                             "application/xml"):
            with self.subTest(content_type=content_type):
                self.assertNotFound(self.send(body="{}", headers={"Content-Type": content_type},
                                              target=TARGET + "ListTables", sign=True))

    # -- JSON, target, signature, body ------------------------------------------------

    def test_not_json_is_serialization_exception(self):
        for content_type in ("application/json", "application/x-amz-json-1.0"):
            with self.subTest(content_type=content_type):
                self.assertBare(self.send(body="hi", headers={"Content-Type": content_type}),
                                SERIALIZATION, content_type)

    def test_json_is_checked_before_the_target(self):
        self.assertBare(self.send(body="{", headers={"Content-Type": "application/json"},
                                  target="Nope.Nope"),
                        SERIALIZATION, "application/json")

    def test_no_target_is_unknown_operation(self):
        self.assertBare(self.send(), UNKNOWN_OPERATION, "application/json")
        self.assertBare(self.send(body="{}", headers={"Content-Type": "application/json"}),
                        UNKNOWN_OPERATION, "application/json")
        self.assertBare(self.send(body="{}",
                                  headers={"Content-Type": "application/x-amz-json-1.0"}),
                        UNKNOWN_OPERATION, "application/x-amz-json-1.0")

    def test_unknown_target_is_unknown_operation(self):
        for target in ("whatever", TARGET + "ListTable", "DynamoDB_20111205.Frobnicate"):
            with self.subTest(target=target):
                self.assertBare(self.send(body="{}", target=target,
                                          headers={"Content-Type": "application/json"}),
                                UNKNOWN_OPERATION, "application/json")

    def test_target_is_checked_before_the_signature(self):
        # Unsigned, unknown target: the target is the answer.
        self.assertBare(self.send(body="{}", target=TARGET + "Nope",
                                  headers={"Content-Type": "application/x-amz-json-1.0"}),
                        UNKNOWN_OPERATION, "application/x-amz-json-1.0")

    def test_missing_signature(self):
        response = self.send(body="{}", target=TARGET + "ListTables",
                             headers={"Content-Type": "application/json"})
        self.assertEqual(response.status, 400)
        self.assertEqual(response.json(), {
            "__type": "com.amazon.coral.service#MissingAuthenticationTokenException",
            "message": "Request is missing Authentication Token"})
        self.assertWellFormed(response)

    def test_missing_signature_before_empty_body(self):
        response = self.send(target=TARGET + "ListTables")
        self.assertEqual(response.json()["__type"],
                         "com.amazon.coral.service#MissingAuthenticationTokenException")

    def test_signed_empty_body_is_serialization_exception(self):
        self.assertBare(self.send(target=TARGET + "ListTables", sign=True),
                        SERIALIZATION, "application/x-amz-json-1.0")

    def test_application_json_is_served(self):
        response = self.send(body="{}", target=TARGET + "ListTables", sign=True,
                             headers={"Content-Type": "application/json"})
        self.assertEqual(response.status, 200, response.body)
        self.assertIn("TableNames", response.json())
        self.assertEqual(response.headers.get("content-type"), "application/json")
        self.assertWellFormed(response)

    def test_serialization_message_key(self):
        """DynamoDB's deserializer puts its text under "Message"."""
        response = self.send(body='{"TableName": 5}', target=TARGET + "DescribeTable",
                             sign=True)
        self.assertEqual(response.json(), {
            "__type": "com.amazon.coral.service#SerializationException",
            "Message": "NUMBER_VALUE cannot be converted to String"})

    def test_server_keeps_serving(self):
        for body in ("}{", "[]", "7", '"x"', "{" * 5000):
            self.send(body=body, target=TARGET + "ListTables", sign=True)
        response = self.send(body="{}", target=TARGET + "ListTables", sign=True)
        self.assertEqual(response.status, 200)

    # -- CORS headers when no Origin is sent ----------------------------------------

    def test_no_origin_no_cors_headers(self):
        for response in (self.send("OPTIONS"), self.send("GET"),
                         self.send(body="{}", target=TARGET + "ListTables", sign=True)):
            for header in CORS_HEADERS:
                self.assertNotIn(header, response.headers)


class CorsTest(unittest.TestCase):
    """CORS under each --cors-origins policy (servers started here)."""

    @classmethod
    def setUpClass(cls):
        # Anonymous on loopback: every origin by default.
        cls.open = EddyServer(anonymous=True).start()
        cls.listed = EddyServer(anonymous=True, extra_args=[
            "--cors-origins", f"{ORIGIN}, http://other.example.test:8080"]).start()
        # With --auth: none unless given.
        cls.authed = EddyServer(anonymous=True)
        cls.authed.extra_args = ["--auth", cls.authed.default_auth_file()]
        cls.authed.start()
        cls.authed_open = EddyServer(anonymous=True)
        cls.authed_open.extra_args = ["--auth", cls.authed_open.default_auth_file(),
                                      "--cors-origins", "*"]
        cls.authed_open.start()

    @classmethod
    def tearDownClass(cls):
        for server in (cls.open, cls.listed, cls.authed, cls.authed_open):
            server.stop()

    def preflight(self, server, origin=ORIGIN, method="POST",
                  headers="authorization,content-type,x-amz-date,x-amz-target"):
        h = {"Origin": origin}
        if method:
            h["Access-Control-Request-Method"] = method
        if headers:
            h["Access-Control-Request-Headers"] = headers
        return request(server, "OPTIONS", headers=h)

    def test_preflight_is_answered_without_a_signature(self):
        response = self.preflight(self.open)
        self.assertEqual(response.status, 200)
        self.assertEqual(response.body, b"")
        self.assertEqual(response.headers["access-control-allow-origin"], "*")
        self.assertEqual(response.headers["access-control-allow-methods"], "POST")
        self.assertEqual(response.headers["access-control-allow-headers"],
                         "authorization,content-type,x-amz-date,x-amz-target")
        self.assertEqual(response.headers["access-control-max-age"], "172800")
        self.assertRegex(response.headers["x-amzn-requestid"], REQUEST_ID)

    def test_preflight_without_requested_headers(self):
        response = self.preflight(self.open, method=None, headers=None)
        self.assertEqual(response.status, 200)
        self.assertIn("POST", response.headers["access-control-allow-methods"])
        self.assertIn("X-Amz-Target", response.headers["access-control-allow-headers"])
        self.assertIn("Authorization", response.headers["access-control-allow-headers"])

    def test_responses_carry_allow_origin_and_expose_headers(self):
        body = b"{}"
        headers = self.open.signed_headers(TARGET + "ListTables", body, {"Origin": ORIGIN})
        for response in (request(self.open, "POST", body, headers),
                         request(self.open, "POST", body, {"Origin": ORIGIN,
                                                           "Content-Type": "application/json"}),
                         request(self.open, "GET", headers={"Origin": ORIGIN}),
                         request(self.open, "DELETE", headers={"Origin": ORIGIN})):
            with self.subTest(status=response.status):
                self.assertEqual(response.headers.get("access-control-allow-origin"), "*")
                exposed = response.headers.get("access-control-expose-headers", "")
                for header in ("x-amzn-RequestId", "x-amz-crc32"):
                    self.assertIn(header, exposed.split(","))
                self.assertNotIn("access-control-max-age", response.headers)

    def test_sdk_reads_the_response_through_cors(self):
        """A signed request from a page: the answer and its headers are readable."""
        body = b"{}"
        headers = self.open.signed_headers(TARGET + "ListTables", body, {"Origin": ORIGIN})
        response = request(self.open, "POST", body, headers)
        self.assertEqual(response.status, 200)
        self.assertIn("TableNames", response.json())
        self.assertEqual(response.headers["x-amz-crc32"], str(zlib.crc32(response.body)))

    def test_listed_origins_are_echoed(self):
        for origin in (ORIGIN, "http://other.example.test:8080"):
            with self.subTest(origin=origin):
                response = self.preflight(self.listed, origin=origin)
                self.assertEqual(response.status, 200)
                self.assertEqual(response.headers["access-control-allow-origin"], origin)
                self.assertEqual(response.headers.get("vary"), "Origin")
                response = request(self.listed, "GET", headers={"Origin": origin})
                self.assertEqual(response.headers["access-control-allow-origin"], origin)

    def test_other_origins_get_nothing(self):
        response = self.preflight(self.listed, origin="http://evil.example.test")
        self.assertEqual(response.status, 404)
        response = request(self.listed, "GET", headers={"Origin": "http://evil.example.test"})
        for header in CORS_HEADERS:
            self.assertNotIn(header, response.headers)

    def test_auth_server_allows_no_origin_by_default(self):
        response = self.preflight(self.authed)
        self.assertEqual(response.status, 404)
        response = request(self.authed, "GET", headers={"Origin": ORIGIN})
        self.assertNotIn("access-control-allow-origin", response.headers)

    def test_auth_server_with_origins(self):
        response = self.preflight(self.authed_open)
        self.assertEqual(response.status, 200)
        self.assertEqual(response.headers["access-control-allow-origin"], "*")
        # The preflight needs no signature, the request itself still does.
        response = request(self.authed_open, "POST", b"{}",
                           {"Origin": ORIGIN, "Content-Type": "application/x-amz-json-1.0"},
                           target=TARGET + "ListTables")
        self.assertEqual(response.json()["__type"],
                         "com.amazon.coral.service#MissingAuthenticationTokenException")
        self.assertEqual(response.headers.get("access-control-allow-origin"), "*")

    def test_invalid_origin_list_is_refused_at_start(self):
        server = EddyServer(anonymous=True, extra_args=["--cors-origins", "not an origin"],
                            startup_timeout=5)
        try:
            with self.assertRaisesRegex(RuntimeError, "exited with code 2"):
                server.start()
            self.assertIn("is not an origin", server.log_text())
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
