"""Tagging through boto3: TagResource / UntagResource / ListTagsOfResource
by table ARN, Tags on CreateTable, DynamoDB's tag rules and error texts
(as recorded against the real service: lengths, character set, the aws:
prefix, duplicates, the 50-tag limit on the set after the change, empty
lists, malformed and unknown ARNs), all-or-nothing changes, tags surviving
a restart; and the account-level DescribeLimits and DescribeEndpoints."""

import unittest
import urllib.parse

from eddy_server import ACCOUNT_ID, REGION, EddyTestCase

NUMBER_OF_TAGS = "Number of Tags exceed the current limit for the provided ResourceArn"


def tags_of(pairs):
    return [{"Key": k, "Value": v} for k, v in pairs]


class TagTestCase(EddyTestCase):

    def arn(self, table):
        return self.ddb.describe_table(TableName=table)["Table"]["TableArn"]

    def tag(self, arn, pairs):
        return self.ddb.tag_resource(ResourceArn=arn, Tags=tags_of(pairs))

    def untag(self, arn, keys):
        return self.ddb.untag_resource(ResourceArn=arn, TagKeys=list(keys))

    def tags(self, arn):
        """The table's tags as a dict (ListTagsOfResource)."""
        response = self.ddb.list_tags_of_resource(ResourceArn=arn)
        self.assertNotIn("NextToken", response)
        return {t["Key"]: t["Value"] for t in response["Tags"]}


class TagResourceTest(TagTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table()

    def setUp(self):
        self.table_arn = self.arn(self.table)
        existing = self.tags(self.table_arn)
        if existing:
            self.untag(self.table_arn, existing)

    # The ARN is DescribeTable's TableArn; a new table has no tags.
    def test_arn_shape_and_no_tags(self):
        self.assertEqual(self.table_arn,
                         f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{self.table}")
        self.assertEqual(self.ddb.list_tags_of_resource(ResourceArn=self.table_arn)["Tags"], [])

    # Tag, overwrite a value, untag (absent keys are no error).
    def test_tag_overwrite_untag(self):
        self.tag(self.table_arn, [("env", "test"), ("team", "db"), ("7", " ")])
        self.assertEqual(self.tags(self.table_arn), {"env": "test", "team": "db", "7": " "})
        self.tag(self.table_arn, [("env", "prod")])
        self.assertEqual(self.tags(self.table_arn), {"env": "prod", "team": "db", "7": " "})
        self.untag(self.table_arn, ["team", "not-there"])
        self.assertEqual(self.tags(self.table_arn), {"env": "prod", "7": " "})

    # TagResource and UntagResource answer with an empty body.
    def test_empty_responses(self):
        response = self.tag(self.table_arn, [("a", "b")])
        self.assertEqual(response["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(set(response) - {"ResponseMetadata"}, set())
        response = self.untag(self.table_arn, ["a"])
        self.assertEqual(set(response) - {"ResponseMetadata"}, set())

    # Lengths: key 1-128 characters, value 0-256 (characters, not bytes).
    def test_lengths(self):
        self.tag(self.table_arn, [("k" * 128, "v" * 256), ("empty", ""), ("ключ" * 32, "é" * 256)])
        self.assertEqual(self.tags(self.table_arn)["empty"], "")
        key = "k" * 129
        with self.assertValidationError(f"The Tag Key provided is invalid, Key: {key}"):
            self.tag(self.table_arn, [(key, "v")])
        value = "v" * 257
        with self.assertValidationError(f"The Tag Value provided is invalid, Value: {value}"):
            self.tag(self.table_arn, [("k", value)])
        with self.assertValidationError("The Tag Key provided is invalid, Key: "):
            self.tag(self.table_arn, [("", "v")])

    def test_missing_key_or_value(self):
        with self.assertValidationError("The Tag Key provided is invalid, Key: null"):
            self.ddb.tag_resource(ResourceArn=self.table_arn, Tags=[{"Value": "v"}])
        with self.assertValidationError("The Tag Value provided is invalid, Value: null"):
            self.ddb.tag_resource(ResourceArn=self.table_arn, Tags=[{"Key": "k"}])

    # Letters and digits of any script, spaces and + - = . _ : / @ only.
    def test_character_set(self):
        good = [("a+b-c=d.e_f:g/h@i", "a+b-c=d.e_f:g/h@i"), ("café", "表"),
                ("with space", "ключ 123"), ("Ünïcödé", "ｆｕｌｌ")]
        self.tag(self.table_arn, good)
        self.assertEqual(self.tags(self.table_arn), dict(good))
        for bad in ("#", "100%", "a,b", "a;b", "a|b", "<a>", "~a", "🔑", "a*b"):
            with self.assertValidationError(f"The Tag Key provided is invalid, Key: {bad}"):
                self.tag(self.table_arn, [(bad, "v")])
            with self.assertValidationError(f"The Tag Value provided is invalid, Value: {bad}"):
                self.tag(self.table_arn, [("k", bad)])

    def test_aws_prefix_is_reserved(self):
        with self.assertValidationError("Tag Key cannot be prefixed with aws:, Key: aws:zzz"):
            self.tag(self.table_arn, [("aws:zzz", "v")])
        self.tag(self.table_arn, [("awsx", "v"), ("x:aws:", "v")])

    def test_duplicate_keys(self):
        with self.assertValidationError(
                "Duplicate Tag Keys provided as input: Duplicate Tag Key found dup"):
            self.tag(self.table_arn, [("dup", "1"), ("dup", "2")])

    # One bad tag rejects the whole request: the good one is not applied.
    def test_all_or_nothing(self):
        with self.assertValidationError():
            self.tag(self.table_arn, [("good", "v"), ("k" * 129, "v")])
        with self.assertValidationError():
            self.tag(self.table_arn, [("good", "v"), ("aws:x", "v")])
        self.assertEqual(self.tags(self.table_arn), {})

    # 50 tags at most, counted on the set after the change.
    def test_fifty_tag_limit(self):
        fifty = [(f"k{i:02}", f"v{i}") for i in range(50)]
        self.tag(self.table_arn, fifty[:30])
        self.tag(self.table_arn, fifty[20:])
        self.assertEqual(len(self.tags(self.table_arn)), 50)
        with self.assertValidationError(NUMBER_OF_TAGS):
            self.tag(self.table_arn, [("k50", "v")])
        with self.assertValidationError(NUMBER_OF_TAGS):
            self.tag(self.table_arn, [("k00", "new"), ("k50", "v")])
        self.assertEqual(self.tags(self.table_arn)["k00"], "v0")
        # Replacing values keeps the count: allowed.
        self.tag(self.table_arn, [(k, v + "b") for k, v in fifty])
        self.assertEqual(self.tags(self.table_arn)["k49"], "v49b")
        # Room again after an untag.
        self.untag(self.table_arn, ["k00"])
        self.tag(self.table_arn, [("k50", "v")])
        self.assertEqual(len(self.tags(self.table_arn)), 50)

    def test_too_many_in_one_request(self):
        with self.assertValidationError(NUMBER_OF_TAGS):
            self.tag(self.table_arn, [(f"k{i}", "v") for i in range(51)])
        self.assertEqual(self.tags(self.table_arn), {})

    def test_empty_and_missing_lists(self):
        with self.assertValidationError("Atleast one Tag needs to be provided as Input."):
            self.ddb.tag_resource(ResourceArn=self.table_arn, Tags=[])
        with self.assertValidationError("Atleast one Tag Key needs to be provided as Input."):
            self.ddb.untag_resource(ResourceArn=self.table_arn, TagKeys=[])
        with self.assertValidationError(
                "1 validation error detected: Value null at 'tags' failed to satisfy "
                "constraint: Member must not be null"):
            self.ddb.tag_resource(ResourceArn=self.table_arn)
        with self.assertValidationError(
                "1 validation error detected: Value null at 'tagKeys' failed to satisfy "
                "constraint: Member must not be null"):
            self.ddb.untag_resource(ResourceArn=self.table_arn)

    def test_untag_rules(self):
        with self.assertValidationError(NUMBER_OF_TAGS):
            self.untag(self.table_arn, [f"k{i}" for i in range(51)])
        key = "k" * 129
        with self.assertValidationError(f"The Tag Key provided is invalid, Key: {key}"):
            self.untag(self.table_arn, [key])
        with self.assertValidationError("The Tag Key provided is invalid, Key: "):
            self.untag(self.table_arn, [""])

    def test_wrong_json_types(self):
        with self.assertDynamoError("SerializationException"):
            self.ddb.tag_resource(ResourceArn=self.table_arn,
                                  Tags=[{"Key": 1, "Value": "v"}])
        with self.assertDynamoError("SerializationException"):
            self.ddb.untag_resource(ResourceArn=self.table_arn, TagKeys=[1])


class ResourceArnTest(TagTestCase):
    """Malformed and unknown ARNs, with the same answer from all three
    operations."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table()

    def each_operation(self, arn):
        yield lambda: self.ddb.tag_resource(ResourceArn=arn, Tags=tags_of([("k", "v")]))
        yield lambda: self.ddb.untag_resource(ResourceArn=arn, TagKeys=["k"])
        yield lambda: self.ddb.list_tags_of_resource(ResourceArn=arn)

    def assertEachFails(self, arn, code, message):
        for call in self.each_operation(arn):
            with self.assertDynamoError(code, message):
                call()

    def test_missing_arn(self):
        for call in (lambda: self.ddb.tag_resource(Tags=tags_of([("k", "v")])),
                     lambda: self.ddb.untag_resource(TagKeys=["k"]),
                     lambda: self.ddb.list_tags_of_resource()):
            with self.assertValidationError("Invalid TableArn"):
                call()

    def test_not_an_arn(self):
        for arn in ("not-an-arn", self.table):
            self.assertEachFails(
                arn, "ValidationException",
                f"One or more parameter values were invalid: ARNs must start with 'arn:': {arn}")

    def test_not_dynamodb(self):
        arn = "arn:aws:s3:::my-bucket"
        self.assertEachFails(
            arn, "ValidationException",
            f"One or more parameter values were invalid: Provided Arn is not a DynamoDB "
            f"resource arn: {arn}")

    def test_other_region(self):
        arn = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT_ID}:table/{self.table}"
        self.assertEachFails(arn, "ValidationException",
                             f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")

    def test_other_account(self):
        arn = f"arn:aws:dynamodb:{REGION}:123456789012:table/{self.table}"
        self.assertEachFails(arn, "AccessDeniedException", "Access is denied")

    def test_index_arn(self):
        arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{self.table}/index/gsi"
        self.assertEachFails(
            arn, "ValidationException",
            "One or more parameter values were invalid: Invalid resource arn provided, "
            f"only table or stream is accepted. Provided resource arn: {arn}")

    def test_invalid_table_name(self):
        arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/ab"
        self.assertEachFails(arn, "ValidationException",
                             f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")

    # A well-formed ARN of no table (here: one character more than a real one).
    def test_unknown_table(self):
        arn = self.arn(self.table) + "x"
        self.assertEachFails(arn, "ResourceNotFoundException",
                             f"Requested resource not found: ResourceArn: {arn} not found")

    # A deleted table's tags go with it; a new table of that name has none.
    def test_deleted_table(self):
        name = self.create_table()
        arn = self.arn(name)
        self.tag(arn, [("k", "v")])
        self.ddb.delete_table(TableName=name)
        self.wait_for_table_gone(name)
        self.assertEachFails(arn, "ResourceNotFoundException",
                             f"Requested resource not found: ResourceArn: {arn} not found")
        self.create_table(name=name)
        self.assertEqual(self.tags(arn), {})


class CreateTableTagsTest(TagTestCase):

    def test_tags_on_create(self):
        pairs = [("str1", "str2"), ("kkk", "vv"), ("keykey", "valvalvalval")]
        name = self.create_table(Tags=tags_of(pairs))
        self.assertEqual(self.tags(self.arn(name)), dict(pairs))

    # CreateTable does not echo Tags, nor does DescribeTable show them.
    def test_tags_not_in_table_description(self):
        name = self.unique_name()
        response = self.ddb.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
            Tags=tags_of([("k", "v")]))
        self._class_tables.append(name)
        self.assertNotIn("Tags", response["TableDescription"])
        self.assertNotIn("Tags", self.ddb.describe_table(TableName=name)["Table"])

    # Bad tags reject the CreateTable: the table is not created.
    def test_bad_tags_create_nothing(self):
        for tags, message in (
                (tags_of((str(i), str(i)) for i in range(51)), NUMBER_OF_TAGS),
                (tags_of([("aws:x", "v")]), "Tag Key cannot be prefixed with aws:, Key: aws:x"),
                (tags_of([("a", "1"), ("a", "2")]),
                 "Duplicate Tag Keys provided as input: Duplicate Tag Key found a"),
                (tags_of([("#", "v")]), "The Tag Key provided is invalid, Key: #")):
            name = self.unique_name()
            with self.assertValidationError(message):
                self.ddb.create_table(
                    TableName=name, BillingMode="PAY_PER_REQUEST",
                    KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
                    Tags=tags)
            with self.assertDynamoError("ResourceNotFoundException"):
                self.ddb.describe_table(TableName=name)

    def test_fifty_tags_on_create(self):
        pairs = [(f"k{i}", "v") for i in range(50)]
        name = self.create_table(Tags=tags_of(pairs))
        self.assertEqual(len(self.tags(self.arn(name))), 50)


class TagRestartTest(TagTestCase):
    """Tags are in the catalog: they survive a clean restart and kill -9."""

    def test_tags_survive_restart(self):
        self.server.require_process()
        created = self.create_table(Tags=tags_of([("from", "create")]))
        tagged = self.create_table()
        self.tag(self.arn(tagged), [("a", "1"), ("b", "2")])
        self.untag(self.arn(tagged), ["b"])

        self.server.restart()
        self.assertEqual(self.tags(self.arn(created)), {"from": "create"})
        self.assertEqual(self.tags(self.arn(tagged)), {"a": "1"})

        self.tag(self.arn(tagged), [("c", "3")])
        self.server.kill9()
        self.server.restart()
        self.assertEqual(self.tags(self.arn(tagged)), {"a": "1", "c": "3"})


class AccountOperationsTest(EddyTestCase):
    """DescribeLimits and DescribeEndpoints."""

    # DynamoDB's default quotas.
    def test_describe_limits(self):
        response = self.ddb.describe_limits()
        del response["ResponseMetadata"]
        self.assertEqual(response, {
            "AccountMaxReadCapacityUnits": 80000,
            "AccountMaxWriteCapacityUnits": 80000,
            "TableMaxReadCapacityUnits": 40000,
            "TableMaxWriteCapacityUnits": 40000,
        })

    # The address is the one the client used, cached for a day.
    def test_describe_endpoints(self):
        response = self.ddb.describe_endpoints()
        host = urllib.parse.urlparse(self.server.endpoint).netloc
        self.assertEqual(response["Endpoints"],
                         [{"Address": host, "CachePeriodInMinutes": 1440}])


if __name__ == "__main__":
    unittest.main()
