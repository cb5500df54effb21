"""Runs MTurk-era boto3 client code against hitstate's MTurk-compatible server (issue 14).

Usage: python3 test/simulator/boto3_check.py http://127.0.0.1:PORT

Started by test/simulator/boto3.sim.test.ts with a fresh simulator on loopback. botocore signs
every request (SigV4, any key, region us-east-1); the endpoint is only ever the URL given. Prints
one line per check and `boto3 check: N checks passed`; any failure raises (exit status 1).
"""

import sys
import xml.etree.ElementTree as ET

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

NS = "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2006-07-14/ExternalQuestion.xsd"
QUESTION = (
    '<ExternalQuestion xmlns="%s"><ExternalURL>https://tasks.example.com/task</ExternalURL>'
    "<FrameHeight>600</FrameHeight></ExternalQuestion>" % NS
)


def client(endpoint, validate=True):
    return boto3.client(
        "mturk",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIDBOTOCHECK",
        aws_secret_access_key="any-secret",
        config=Config(parameter_validation=validate, retries={"max_attempts": 1}),
    )


def create_hit(mturk, **extra):
    params = dict(
        Title="Label an image",
        Description="Pick the best label.",
        Reward="0.50",
        AssignmentDurationInSeconds=600,
        LifetimeInSeconds=3600,
        MaxAssignments=1,
        Question=QUESTION,
    )
    params.update(extra)
    return mturk.create_hit(**params)["HIT"]


def get_outstanding_hits(mturk):
    """Mephisto's mturk_utils.get_outstanding_hits, ported: reads NextToken after every non-empty page."""
    new_hits = mturk.list_hits(MaxResults=100)
    all_hits = new_hits["HITs"]
    while len(new_hits["HITs"]) > 0:
        new_hits = mturk.list_hits(MaxResults=100, NextToken=new_hits["NextToken"])
        all_hits += new_hits["HITs"]
    by_type = {}
    for hit in all_hits:
        by_type.setdefault(hit["HITTypeId"], []).append(hit)
    return by_type


def all_hit_ids(mturk):
    """The `while 'NextToken' in result` loop of review scripts."""
    result = mturk.list_hits(MaxResults=100)
    ids = [h["HITId"] for h in result["HITs"]]
    while "NextToken" in result:
        result = mturk.list_hits(MaxResults=100, NextToken=result["NextToken"])
        ids += [h["HITId"] for h in result["HITs"]]
    return ids


def worker(endpoint, path, body):
    """Plays a worker through the simulator's control API (a local test double, no AWS)."""
    import json
    import urllib.request

    request = urllib.request.Request(
        endpoint + path,
        data=json.dumps(body).encode("utf-8"),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read().decode("utf-8"))


def main(endpoint):
    mturk = client(endpoint)
    checks = []

    def check(name, condition, detail=""):
        if not condition:
            raise AssertionError("%s: %s" % (name, detail))
        checks.append(name)
        print("ok   " + name)

    # 1. Pagination: a NextToken on every page with results, an empty page at the end.
    check("no HIT: get_outstanding_hits is empty", get_outstanding_hits(mturk) == {})
    created = [create_hit(mturk)["HITId"] for _ in range(3)]
    page = mturk.list_hits(MaxResults=100)
    check("the last page with results has a NextToken", "NextToken" in page, page.keys())
    end = mturk.list_hits(MaxResults=100, NextToken=page["NextToken"])
    check("the empty page has none", end["NumResults"] == 0 and "NextToken" not in end, end.keys())
    outstanding = get_outstanding_hits(mturk)
    check(
        "get_outstanding_hits reads every HIT without a KeyError",
        sorted(h["HITId"] for hits in outstanding.values() for h in hits) == sorted(created),
    )
    check("the while 'NextToken' in result loop reads every HIT", sorted(all_hit_ids(mturk)) == sorted(created))
    paginated = [h["HITId"] for p in mturk.get_paginator("list_hits").paginate() for h in p["HITs"]]
    check("boto3's own paginator reads every HIT", sorted(paginated) == sorted(created))

    # 2. psiTurk's `worker reject`: RequesterFeedback=''.
    hit = create_hit(mturk)
    check("HITGroupId is an id of its own", hit["HITGroupId"] != hit["HITTypeId"], hit)
    accepted = worker(endpoint, "/_sim/workers/AWORKERONE/accept", {"hitId": hit["HITId"]})
    worker(endpoint, "/_sim/assignments/%s/submit" % accepted["assignmentId"], {"fields": {"note": "caf\u00e9 \u2014 \U0001F600"}})
    mturk.reject_assignment(AssignmentId=accepted["assignmentId"], RequesterFeedback="")
    assignment = mturk.get_assignment(AssignmentId=accepted["assignmentId"])["Assignment"]
    check("an empty RequesterFeedback rejects", assignment["AssignmentStatus"] == "Rejected", assignment)

    # 5. Assignment shape: no Deadline, ASCII answer that ElementTree reads as scripts did.
    check("a rejected assignment has no Deadline", "Deadline" not in assignment, assignment.keys())
    answer = assignment["Answer"]
    check(
        "the Answer starts with the ASCII declaration, no newline",
        answer.startswith('<?xml version="1.0" encoding="ASCII"?><QuestionFormAnswers xmlns='),
        answer[:80],
    )
    check("non-ASCII is written as references", "&#8212;" in answer and "&#128512;" in answer, answer)
    root = ET.fromstring(answer)
    texts = {}
    for child in root:
        key = None
        for sub in child:
            if sub.tag.endswith("QuestionIdentifier"):
                key = sub.text
            if sub.tag.endswith("FreeText"):
                texts[key] = sub.text
    check("ElementTree reads the answer back", texts.get("note") == "caf\u00e9 \u2014 \U0001F600", texts)

    # 3. A data-collection script's requirements: RequiredToPreview and ActionsGuarded together.
    requirements = [
        {
            "QualificationTypeId": "00000000000000000040",
            "Comparator": "GreaterThanOrEqualTo",
            "IntegerValues": [500],
            "RequiredToPreview": False,
            "ActionsGuarded": "Accept",
        },
        {
            "QualificationTypeId": "00000000000000000071",
            "Comparator": "EqualTo",
            "LocaleValues": [{"Country": "US"}],
            "RequiredToPreview": False,
            "ActionsGuarded": "Accept",
        },
    ]
    guarded = create_hit(mturk, Title="Qualified only", QualificationRequirements=requirements)
    echoed = mturk.get_hit(HITId=guarded["HITId"])["HIT"]["QualificationRequirements"]
    check("both members are accepted and echoed", echoed == requirements, echoed)
    legacy = create_hit(
        mturk,
        Title="Legacy",
        QualificationRequirements=[
            {"QualificationTypeId": "00000000000000000040", "Comparator": "Exists", "RequiredToPreview": True}
        ],
    )
    echoed = mturk.get_hit(HITId=legacy["HITId"])["HIT"]["QualificationRequirements"][0]
    check(
        "RequiredToPreview alone comes back with ActionsGuarded PreviewAndAccept",
        echoed.get("ActionsGuarded") == "PreviewAndAccept" and echoed.get("RequiredToPreview") is True,
        echoed,
    )

    # 4. Missing required members: ValidationException (boto3 itself would refuse; a raw client does not).
    raw = client(endpoint, validate=False)
    try:
        raw.send_bonus(WorkerId="AWORKERONE", AssignmentId=accepted["assignmentId"], BonusAmount="1.00")
        raise AssertionError("send_bonus without Reason succeeded")
    except ClientError as err:
        error = err.response["Error"]
        check(
            "a missing Reason is a ValidationException",
            error["Code"] == "ValidationException"
            and error["Message"]
            == "1 validation error detected: Value null at 'reason' failed to satisfy constraint: Member must not be null"
            and err.response["ResponseMetadata"]["HTTPStatusCode"] == 400,
            err.response,
        )
    try:
        mturk.get_hit(HITId="3NOPENOPENOPENOPENOPENOPENOPEN")
        raise AssertionError("get_hit of an unknown HIT succeeded")
    except ClientError as err:
        check("an unknown HIT stays a RequestError", err.response["Error"]["Code"] == "RequestError", err.response)

    print("boto3 check: %d checks passed" % len(checks))


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].startswith("http://127.0.0.1:"):
        sys.exit("usage: boto3_check.py http://127.0.0.1:PORT (the simulator on loopback, never AWS)")
    main(sys.argv[1])
