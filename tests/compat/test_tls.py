"""HTTPS: `eddy serve --tls-cert/--tls-key`, driven by the clients users have.

A throwaway CA and server certificates for 127.0.0.1 are made with the
`openssl` binary in a temporary directory. The AWS CLI with --ca-bundle,
boto3 with verify=, and the eddy CLI with --ca-bundle (or AWS_CA_BUNDLE)
must work unchanged; without the CA they must fail verification; plain HTTP
sent to the port gets a clean 400 and the server keeps serving; TLS 1.2 and
1.3 negotiate (forward-secret AEAD suites only) and TLS 1.1 gets an alert;
SIGHUP swaps the certificate for new connections.
"""

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import unittest
import warnings
from pathlib import Path

import boto3
import botocore.config
import botocore.exceptions
from botocore.exceptions import ClientError

from eddy_server import (ACCESS_KEY, REGION, SECRET_KEY, EddyServer,
                         test_environment, wait_until)


class Pki:
    """A CA and server certificates it signs, made with the openssl binary."""

    def __init__(self, directory):
        self.dir = Path(directory)
        self.ca = str(self.dir / "ca.pem")
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                      "ec_paramgen_curve:P-256", "-nodes",
                      "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                      "-subj", "/CN=Eddy test CA",
                      "-addext", "basicConstraints=critical,CA:TRUE",
                      "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        (self.dir / "server.ext").write_text(
            "subjectAltName=IP:127.0.0.1\n"
            "extendedKeyUsage=serverAuth\n"
            "basicConstraints=CA:FALSE\n")

    def _openssl(self, *args):
        done = subprocess.run(["openssl", *args], cwd=self.dir,
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise AssertionError(f"openssl {' '.join(args)}:\n{done.stderr}")

    def server_certificate(self, name, serial):
        """(cert, key) paths of a certificate for 127.0.0.1 with `serial`."""
        self._openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                      "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                      "-subj", "/CN=127.0.0.1")
        self._openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem",
                      "-CAkey", "ca.key", "-set_serial", str(serial), "-days", "2",
                      "-extfile", "server.ext", "-out", f"{name}.pem")
        return str(self.dir / f"{name}.pem"), str(self.dir / f"{name}.key")


def boto3_client(endpoint, verify):
    """A DynamoDB client of the test identity, without retries."""
    session = boto3.session.Session(aws_access_key_id=ACCESS_KEY,
                                    aws_secret_access_key=SECRET_KEY,
                                    region_name=REGION)
    config = botocore.config.Config(retries={"total_max_attempts": 1},
                                    connect_timeout=5, read_timeout=30)
    return session.client("dynamodb", endpoint_url=endpoint, verify=verify,
                          config=config)


def cli_environment(**extra):
    """The test identity, and no CA bundle but the one a test gives."""
    env = test_environment()
    env.pop("AWS_CA_BUNDLE", None)
    env.update(AWS_PAGER="", AWS_EC2_METADATA_DISABLED="true",
               AWS_DEFAULT_OUTPUT="json", **extra)
    return env


class TlsServerTestCase(unittest.TestCase):
    """A CA, two server certificates (serials 1001 and 2002) and an HTTPS
    server per class, serving a copy of the first (live.pem/live.key)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="eddy-tls-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.pki = Pki(cls.tmp)
        cls.first = cls.pki.server_certificate("first", 1001)
        cls.second = cls.pki.server_certificate("second", 2002)
        cls.live = (os.path.join(cls.tmp, "live.pem"), os.path.join(cls.tmp, "live.key"))
        cls.install(cls.first)
        cls.server = EddyServer(tls_cert=cls.live[0], tls_key=cls.live[1],
                                ca_bundle=cls.pki.ca)
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        cls.server.require_process()
        cls.ddb = cls.server.client()

    @classmethod
    def install(cls, cert_and_key):
        shutil.copyfile(cert_and_key[0], cls.live[0])
        shutil.copyfile(cert_and_key[1], cls.live[1])

    def connect_tls(self, context=None):
        """A TLS socket to the server, verified against the test CA."""
        if context is None:
            context = ssl.create_default_context(cafile=self.pki.ca)
        raw = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        try:
            return context.wrap_socket(raw, server_hostname="127.0.0.1")
        except BaseException:
            raw.close()
            raise

    def serial(self):
        """The serial number of the certificate a new connection gets."""
        with self.connect_tls() as tls:
            return int(tls.getpeercert()["serialNumber"], 16)

    def assertServes(self):
        self.assertIn("TableNames", self.ddb.list_tables())


class HttpsClientsTest(TlsServerTestCase):
    """The clients users have, over HTTPS."""

    def test_log_says_https(self):
        self.assertIn(f"Eddy listening on https://127.0.0.1:{self.server.port}",
                      self.server.log_text())

    def test_boto3_with_verify(self):
        """boto3 with verify=<the CA> does everything it does over HTTP."""
        name = f"tls-{os.urandom(4).hex()}"
        self.ddb.create_table(
            TableName=name, KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST")
        self.ddb.put_item(TableName=name, Item={"p": {"S": "k"}, "v": {"N": "1"}})
        item = self.ddb.get_item(TableName=name, Key={"p": {"S": "k"}},
                                 ConsistentRead=True)["Item"]
        self.assertEqual(item["v"], {"N": "1"})

    def test_boto3_without_the_ca_fails_verification(self):
        """The test CA is in no system store: verification must fail."""
        untrusting = boto3_client(self.server.endpoint, verify=True)
        with self.assertRaises(botocore.exceptions.SSLError) as cm:
            untrusting.list_tables()
        self.assertIn("CERTIFICATE_VERIFY_FAILED", str(cm.exception))

    def aws(self, *args, env=None):
        return subprocess.run(["aws", "dynamodb", *args,
                               "--endpoint-url", self.server.endpoint],
                              capture_output=True, text=True, timeout=120,
                              env=env or cli_environment(), stdin=subprocess.DEVNULL)

    def test_aws_cli_with_ca_bundle(self):
        name = f"cli-{os.urandom(4).hex()}"
        done = self.aws("create-table", "--table-name", name,
                        "--attribute-definitions", "AttributeName=p,AttributeType=S",
                        "--key-schema", "AttributeName=p,KeyType=HASH",
                        "--billing-mode", "PAY_PER_REQUEST",
                        "--ca-bundle", self.pki.ca)
        self.assertEqual(done.returncode, 0, done.stderr)
        done = self.aws("put-item", "--table-name", name,
                        "--item", '{"p": {"S": "cli"}}', "--ca-bundle", self.pki.ca)
        self.assertEqual(done.returncode, 0, done.stderr)
        done = self.aws("list-tables", "--ca-bundle", self.pki.ca)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn(name, json.loads(done.stdout)["TableNames"])
        # AWS_CA_BUNDLE does the same.
        done = self.aws("get-item", "--table-name", name, "--key", '{"p": {"S": "cli"}}',
                        env=cli_environment(AWS_CA_BUNDLE=self.pki.ca))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(json.loads(done.stdout)["Item"]["p"], {"S": "cli"})

    def test_aws_cli_without_the_ca_fails_verification(self):
        done = self.aws("list-tables")
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("SSL validation failed", done.stderr)

    def eddy(self, *args, env=None):
        return subprocess.run([str(self.server.binary), *args],
                              capture_output=True, text=True, timeout=120,
                              env=env or cli_environment(), stdin=subprocess.DEVNULL)

    def test_eddy_cli_with_ca_bundle(self):
        """ttl sweep, trigger list and stream tail accept https:// and
        --ca-bundle (or AWS_CA_BUNDLE)."""
        done = self.eddy("ttl", "sweep", "--endpoint-url", self.server.endpoint,
                         "--ca-bundle", self.pki.ca)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("deleted 0 expired items", done.stdout)
        done = self.eddy("trigger", "list", "--endpoint", self.server.endpoint,
                         "--ca-bundle", self.pki.ca, "--json")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("Triggers", json.loads(done.stdout))
        done = self.eddy("trigger", "list", "--json", "--endpoint", self.server.endpoint,
                         env=cli_environment(AWS_CA_BUNDLE=self.pki.ca))
        self.assertEqual(done.returncode, 0, done.stderr)

        name = f"tail-{os.urandom(4).hex()}"
        self.ddb.create_table(
            TableName=name, KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
        self.ddb.put_item(TableName=name, Item={"p": {"S": "tailed"}})
        done = self.eddy("stream", "tail", name, "--from", "trim-horizon", "--no-follow",
                         "--endpoint", self.server.endpoint, "--ca-bundle", self.pki.ca)
        self.assertEqual(done.returncode, 0, done.stderr)
        records = [json.loads(line) for line in done.stdout.splitlines()]
        self.assertEqual([r["dynamodb"]["Keys"]["p"]["S"] for r in records], ["tailed"])

    def test_eddy_cli_without_the_ca_fails_verification(self):
        done = self.eddy("trigger", "list", "--endpoint", self.server.endpoint)
        self.assertEqual(done.returncode, 1)
        self.assertIn("certificate", done.stderr)
        self.assertIn("--ca-bundle", done.stderr)


class HttpsTransportTest(TlsServerTestCase):
    """What reaches the port: protocols, suites, plain HTTP, garbage."""

    def test_tls12_and_tls13_negotiate(self):
        """Both versions work (pinned on the client, as Alternator's
        test_https.py checks); TLS 1.2 lands on ECDHE with an AEAD cipher."""
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            context = ssl.create_default_context(cafile=self.pki.ca)
            context.minimum_version = context.maximum_version = version
            with self.connect_tls(context) as tls:
                self.assertEqual(tls.version(), version.name.replace("v1_", "v1."))
                cipher = tls.cipher()[0]
                if version == ssl.TLSVersion.TLSv1_2:
                    self.assertTrue(cipher.startswith("ECDHE-"), cipher)
                    self.assertTrue("GCM" in cipher or "CHACHA20" in cipher, cipher)
                tls.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            b"Connection: close\r\n\r\n")
                self.assertTrue(tls.recv(4096).startswith(b"HTTP/1.1 200 "))

    def test_tls11_gets_a_protocol_alert(self):
        """TLS 1.1 fails with a protocol_version alert the client can report,
        not a reset."""
        context = ssl.create_default_context(cafile=self.pki.ca)
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1_1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
        with self.assertRaises(ssl.SSLError) as cm:
            self.connect_tls(context).close()
        self.assertEqual(cm.exception.reason, "TLSV1_ALERT_PROTOCOL_VERSION")
        self.assertServes()

    def test_cbc_suites_are_refused(self):
        context = ssl.create_default_context(cafile=self.pki.ca)
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers("ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384")
        with self.assertRaises(ssl.SSLError) as cm:
            self.connect_tls(context).close()
        self.assertEqual(cm.exception.reason, "SSLV3_ALERT_HANDSHAKE_FAILURE")

    def test_plain_http_to_the_tls_port_fails_cleanly(self):
        """A signed request in plain HTTP gets 400 and a close, never a 200;
        the server goes on serving."""
        body = b"{}"
        headers = self.server.signed_headers("DynamoDB_20120810.ListTables", body)
        request = (f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{self.server.port}\r\n"
                   + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                   + f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(request)
            answer = b""
            while chunk := s.recv(4096):  # Until the server closes.
                answer += chunk
        head, _, text = answer.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 400 "), answer)
        self.assertIn(b"Connection: close", head)
        self.assertEqual(text, b"The plain HTTP request was sent to HTTPS port")

        # boto3 pointed at http:// gets an error, not a hang or a success.
        plain = boto3_client(f"http://127.0.0.1:{self.server.port}", verify=None)
        with self.assertRaises(ClientError) as cm:
            plain.list_tables()
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertServes()

    def test_garbage_and_stalled_handshakes_do_not_stop_the_server(self):
        """Random bytes, a truncated ClientHello left hanging, and a silent
        connection: the server answers others meanwhile and after."""
        random_bytes = socket.create_connection(("127.0.0.1", self.server.port))
        stalled = socket.create_connection(("127.0.0.1", self.server.port))
        silent = socket.create_connection(("127.0.0.1", self.server.port))
        try:
            random_bytes.sendall(b"\x16\x03\x01\x00\x10" + os.urandom(300))
            stalled.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
            self.assertServes()
        finally:
            for s in (random_bytes, stalled, silent):
                s.close()
        self.assertServes()


class CertificateReloadTest(TlsServerTestCase):
    """SIGHUP re-reads the certificate and key."""

    @staticmethod
    def get_on(tls):
        """Status of `GET /` on an open keep-alive connection."""
        tls.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = tls.recv(4096)
            if not chunk:
                return None
            answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")))
        while len(body) < length:
            body += tls.recv(4096)
        return int(head.split(b" ")[1])

    def test_sighup_swaps_the_certificate(self):
        self.assertEqual(self.serial(), 1001)
        # A keep-alive connection open across the reload.
        before = self.connect_tls()
        self.addCleanup(before.close)
        self.assertEqual(self.get_on(before), 200)

        self.install(self.second)
        self.server.process.send_signal(signal.SIGHUP)
        wait_until(lambda: self.serial() == 2002, what="the new certificate")
        self.assertIn("SIGHUP: reloaded the TLS certificate", self.server.log_text())
        # The connection made before the reload keeps its certificate and
        # goes on working.
        self.assertEqual(self.get_on(before), 200)
        self.assertEqual(int(before.getpeercert()["serialNumber"], 16), 1001)
        self.assertServes()

        # A bad file is logged and the current certificate stays.
        Path(self.live[0]).write_text("not a certificate\n")
        self.server.process.send_signal(signal.SIGHUP)
        wait_until(lambda: "reloading the TLS certificate failed"
                   in self.server.log_text(), what="the failed reload in the log")
        self.assertEqual(self.serial(), 2002)
        self.assertTrue(self.server.is_running())
        self.assertServes()


if __name__ == "__main__":
    unittest.main()
