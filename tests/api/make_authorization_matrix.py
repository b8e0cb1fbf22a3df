#!/usr/bin/env python3
"""Writes authorization_matrix.tsv: the expected answer of every route x method x role x
relationship of the FHIR API (docs/fhir-api.md), from the role matrix in docs/security.md and
the rules of security/policy.h written out here independently of the C++ code.

The resource types, their access categories and what export writes are not listed here: they
are read from the resource registry through `joinedup resource-types`, so the model cannot
drift from the types the server declares (a ctest, authorization_matrix_is_current, runs this
script against the built binary and fails if the committed .tsv differs).

Run it after changing a rule, review the diff of the .tsv, and commit both.
    python3 tests/api/make_authorization_matrix.py BUILD/src/cli/joinedup \
        > tests/api/authorization_matrix.tsv
"""
import subprocess
import sys

R, S, C, U, E = "R", "S", "C", "U", "E"
# docs/security.md role matrix: Demographics, Clinical, Risk, Consent, Directory, Audit, Population
MATRIX = {
    "gp":              ["RSCUE", "RSCUE", "RSE", "RSCU", "RS", "", "RS"],
    "nurse":           ["RSU", "RSCU", "RS", "RSCU", "RS", "", ""],
    "case-manager":    ["RSU", "RSCU", "RS", "RSCU", "RS", "", "RS"],
    "care-assistant":  ["RS", "RS", "", "RS", "RS", "", ""],
    "social-worker":   ["RSU", "RS", "RS", "RSC", "RS", "", ""],
    "mental-health":   ["RS", "RSCU", "RS", "RSCU", "RS", "", ""],
    "pharmacist":      ["RS", "RSCU", "", "RS", "RS", "", ""],
    "link-worker":     ["RS", "", "", "RS", "RS", "", ""],
    "commissioner":    ["", "", "", "", "RS", "", "RSE"],
    "privacy-officer": ["", "", "", "", "RS", "RS", ""],
    "administrator":   ["", "", "", "", "RSCU", "", ""],
    "patient":         ["RS", "RS", "", "RSCU", "RS", "", ""],
}
COLUMNS = ["Demographics", "Clinical", "Risk", "Consent", "Directory", "Audit", "Population"]
CLINICIANS = {"gp", "nurse", "case-manager", "mental-health", "pharmacist"}
STAFF_RELATIONSHIPS = ["own-practice", "care-team", "other-practice", "consent-withdrawn", "break-glass"]
PATIENT_RELATIONSHIPS = ["patient-self", "patient-other"]
VISIBLE = {"own-practice", "care-team", "patient-self"}
# Consents stored for each target person (api_test_support.h): one each.
CONSENTS = {"own-practice": 1, "care-team": 1, "other-practice": 1, "consent-withdrawn": 1,
            "break-glass": 1, "patient-self": 1, "patient-other": 1}

def read_registry(joinedup):
    """The registry's rows as dicts, from `joinedup resource-types`."""
    out = subprocess.run([joinedup, "resource-types"], check=True, capture_output=True,
                         text=True).stdout.splitlines()
    header = out[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in out[1:]]


REGISTRY = read_registry(sys.argv[1] if len(sys.argv) > 1 else "joinedup")
# The access category of each served type (a column of MATRIX).
CATEGORY = {row["type"]: COLUMNS.index(row["category"])
            for row in REGISTRY if row["interactions"] != "-"}
# What an export kick-off sends out without _type: the person-bound types whose rights govern
# what the exporter writes.
EXPORTED = sorted({row["governed_by"] for row in REGISTRY
                   if row["exported"] == "yes" and row["person_bound"] == "yes"})


# Read-only tokens (user/*.rs, patient/*.rs): the role's rights, less what the token's scopes do
# not grant. Export needs read and search, which .rs grants. Written "<role>+rs".
READ_ONLY = ["gp", "nurse", "patient"]
TOKEN_LETTERS = {"": "RSCUE", "rs": "RSE"}


def base_role(role):
    return role.split("+")[0]


# security/policy.h kPersonCoOwnedTypes: the person co-owns their care plan — a patient may
# update (never create) these, their own only, and only the parts that are theirs.
CO_OWNED = {"CarePlan", "Goal"}


def allows(role, rtype, letter):
    base, _, token = role.partition("+")
    granted = letter in MATRIX[base][CATEGORY[rtype]] or (
        base == "patient" and letter == U and rtype in CO_OWNED)
    return granted and letter in TOKEN_LETTERS[token]


# (route, method, kind, types that need `letter`, letter, count when visible)
ROUTES = [
    ("/Patient/{patient}", "GET", "read", ["Patient"], R, None),
    ("/Patient/{patient}/_history/1", "GET", "read", ["Patient"], R, None),
    ("/Patient/{patient}/_history", "GET", "read", ["Patient"], R, None),
    ("/Condition/{condition}", "GET", "read", ["Condition"], R, None),
    ("/Observation/{observation}", "GET", "read", ["Observation"], R, None),
    ("/Encounter/{encounter}", "GET", "read", ["Encounter"], R, None),
    ("/MedicationRequest/{medication}", "GET", "read", ["MedicationRequest"], R, None),
    ("/RiskAssessment/{risk}", "GET", "read", ["RiskAssessment"], R, None),
    ("/Patient?_id={patient}", "GET", "search", ["Patient"], S, 1),
    ("/Patient/_search", "POST", "search", ["Patient"], S, 1),
    ("/Condition?subject={patient}", "GET", "search", ["Condition"], S, 1),
    ("/Condition?subject={patient}&_include=Condition:subject", "GET", "search",
     ["Condition", "Patient"], S, 2),
    ("/Patient?_id={patient}&_revinclude=Condition:subject", "GET", "search",
     ["Patient", "Condition"], S, 2),
    ("/MedicationRequest?subject={patient}", "GET", "search", ["MedicationRequest"], S, 1),
    ("/RiskAssessment?subject={patient}", "GET", "search", ["RiskAssessment"], S, 1),
    ("/Consent?patient={patient}", "GET", "search", ["Consent"], S, "consents"),
    ("/Consent/_search", "POST", "search", ["Consent"], S, "consents"),
    ("/Consent?patient={patient}&date=le2026-09-21&_sort=-date&_include=Consent:patient", "GET",
     "search", ["Consent", "Patient"], S, "consents+1"),
    ("/Patient?_id={patient}&_revinclude=Consent:patient", "GET", "search",
     ["Patient", "Consent"], S, "1+consents"),
    ("/Consent/{consent}", "GET", "read", ["Consent"], R, None),
    ("/Consent/{consent}/_history", "GET", "read", ["Consent"], R, None),
    ("/Consent/{consent}", "PUT", "consent-update", ["Consent"], U, None),
    ("/Patient/{patient}", "PUT", "update", ["Patient"], U, None),
    ("/Condition/{condition}", "PUT", "update", ["Condition"], U, None),
    ("/Condition", "POST", "create", ["Condition"], C, None),
    ("/Consent", "POST", "create", ["Consent"], C, None),
    ("/Patient/{patient}", "DELETE", "405", [], None, None),
    ("/AuditEvent/1", "PUT", "405", [], None, None),
    ("/Patient/$export", "GET", "export", [], None, None),
    ("/Patient/$export", "POST", "export", ["Patient", "Condition"], None, None),
    ("/$export", "POST", "export", [], None, None),
    ("/Organization/A81001", "GET", "unbound", ["Organization"], R, None),
    ("/Group/{group}", "GET", "unbound", ["Group"], R, None),
    ("/Group?_id={group}", "GET", "unbound-search", ["Group"], S, 1),
    ("/AuditEvent?patient={patient}", "GET", "unbound-search", ["AuditEvent"], S, 0),
    # RelatedPerson: a type kept as a document (each person has one carer, rp-<person>).
    ("/RelatedPerson/{related}", "GET", "read", ["RelatedPerson"], R, None),
    ("/RelatedPerson/{related}/_history", "GET", "read", ["RelatedPerson"], R, None),
    ("/RelatedPerson?patient={patient}", "GET", "search", ["RelatedPerson"], S, 1),
    ("/RelatedPerson?patient={patient}&_include=RelatedPerson:patient", "GET", "search",
     ["RelatedPerson", "Patient"], S, 2),
    ("/Patient?_id={patient}&_revinclude=RelatedPerson:patient", "GET", "search",
     ["Patient", "RelatedPerson"], S, 2),
    ("/RelatedPerson/{related}", "PUT", "update", ["RelatedPerson"], U, None),
    ("/RelatedPerson", "POST", "create", ["RelatedPerson"], C, None),
    # Case management, kept as documents: each person has a Goal, a CarePlan with that goal, a
    # Task on the plan (owned by Practitioner/pr1, due 2026-05-01T16:00Z), a Flag and a
    # QuestionnaireResponse (api_test_support.h AddCarePlanRecords).
    ("/Goal/{goal}", "GET", "read", ["Goal"], R, None),
    ("/Goal?patient={patient}&target-date=le2026-12-31", "GET", "search", ["Goal"], S, 1),
    ("/Goal/{goal}", "PUT", "update", ["Goal"], U, None),
    ("/Goal", "POST", "create", ["Goal"], C, None),
    ("/CarePlan/{careplan}", "GET", "read", ["CarePlan"], R, None),
    ("/CarePlan/{careplan}/_history", "GET", "read", ["CarePlan"], R, None),
    ("/CarePlan?patient={patient}", "GET", "search", ["CarePlan"], S, 1),
    ("/CarePlan?patient={patient}&_include=CarePlan:goal", "GET", "search",
     ["CarePlan", "Goal"], S, 2),
    ("/Patient?_id={patient}&_revinclude=CarePlan:patient", "GET", "search",
     ["Patient", "CarePlan"], S, 2),
    ("/CarePlan/{careplan}", "PUT", "update", ["CarePlan"], U, None),
    ("/CarePlan", "POST", "create", ["CarePlan"], C, None),
    ("/Task/{task}", "GET", "read", ["Task"], R, None),
    ("/Task?owner=Practitioner/pr1&status=requested&due=le2026-05-01&patient={patient}", "GET",
     "search", ["Task"], S, 1),
    ("/Task?patient={patient}&_include=Task:focus", "GET", "search", ["Task", "CarePlan"], S, 2),
    ("/Task/{task}", "PUT", "update", ["Task"], U, None),
    ("/Task", "POST", "create", ["Task"], C, None),
    ("/Flag/{flag}", "GET", "read", ["Flag"], R, None),
    ("/Flag?patient={patient}&status=active", "GET", "search", ["Flag"], S, 1),
    ("/Flag/{flag}", "PUT", "update", ["Flag"], U, None),
    ("/Flag", "POST", "create", ["Flag"], C, None),
    ("/QuestionnaireResponse/{response}", "GET", "read", ["QuestionnaireResponse"], R, None),
    ("/QuestionnaireResponse?patient={patient}", "GET", "search", ["QuestionnaireResponse"], S, 1),
    ("/QuestionnaireResponse/{response}", "PUT", "update", ["QuestionnaireResponse"], U, None),
    ("/QuestionnaireResponse", "POST", "create", ["QuestionnaireResponse"], C, None),
    # The assessment's definition is about no one (Directory).
    ("/Questionnaire/holistic-assessment", "GET", "unbound", ["Questionnaire"], R, None),
    ("/Questionnaire?status=active", "GET", "unbound-search", ["Questionnaire"], S, 1),
    # Writes decided on the record as it will be (security review rule 1). A method
    # "PUT:variant" is a PUT whose body the test changes as the variant says.
    ("/Patient/{patient}", "PUT:to-A81001", "move", ["Patient"], U, "A81001"),
    ("/Patient/{patient}", "PUT:to-B82002", "move", ["Patient"], U, "B82002"),
    ("/Condition/{condition}", "PUT:subject-p4", "update-to-hidden", ["Condition"], U, None),
    # Creating a person is registering them (rule 2): a new NHS number, at the caller's practice.
    ("/Patient", "POST", "register", ["Patient"], C, None),
    # The person's plan co-owned (issue 12 item 4): their own parts changed, by FHIR PUT —
    # "About me" written by them; their goal reworded by them.
    ("/CarePlan/{careplan}", "PUT:about-me", "co-own", ["CarePlan"], U, None),
    ("/Goal/{goal}", "PUT:persons-words", "co-own", ["Goal"], U, None),
    # The web application's care-plan routes (webapp/care_plan_api.h). Every person has a
    # current plan cp-<pid> (version 1) and goal g-<pid>; the bodies are the test's (BodyFor).
    ("/app/api/people/{patient}/care-plan", "GET", "app-read", ["CarePlan", "Goal", "Task", "Flag"], S, None),
    ("/app/api/people/{patient}/care-plan", "POST", "app-create-plan", ["CarePlan"], C, None),
    ("/app/api/care-plans/{careplan}", "POST", "app-change", ["CarePlan"], U, None),
    ("/app/api/care-plans/{careplan}", "POST:about-me", "co-own", ["CarePlan"], U, None),
    ("/app/api/care-plans/{careplan}/history", "GET", "app-read", ["CarePlan"], R, None),
    ("/app/api/people/{patient}/goals", "POST", "app-create-goal", ["Goal", "CarePlan"], C, None),
    ("/app/api/goals/{goal}", "POST", "co-own", ["Goal"], U, None),
]

# Where each relationship's person is registered (api_test_support.h); the staff users all
# work at A81001.
PRACTICE = {"own-practice": "A81001", "care-team": "B82002", "other-practice": "B82002",
            "consent-withdrawn": "B82002", "break-glass": "B82002", "patient-self": "A81001",
            "patient-other": "B82002"}
CALLERS_PRACTICE = "A81001"


def expect(route, method, kind, types, letter, count, role, rel):
    """(status, count) — count '-' where it does not apply."""
    instance_read = method == "GET" and kind in ("read", "unbound")
    if rel == "break-glass" and not instance_read:
        return 400, "-"  # X-Break-Glass-Reason is accepted on reads of one record only
    if kind == "405":
        return 405, "-"
    if kind == "export":
        # An export needs the export right on every person-bound type that goes out: those of
        # _type (the POST rows' Parameters body), else all of them.
        ok = all(allows(role, t, E) for t in (types or EXPORTED))
        return (202 if ok else 403), "-"
    if not all(allows(role, t, letter) for t in types):
        return 403, "-"
    if kind == "unbound":
        return 200, "-"
    if kind == "unbound-search":
        return 200, count
    visible = rel in VISIBLE
    if rel == "break-glass":
        visible = base_role(role) in CLINICIANS  # reads only, clinicians only; flagged, alerted
    if kind == "read":
        return (200 if visible else 404), "-"
    if kind == "search":
        if isinstance(count, str):  # "consents", "consents+1", "1+consents"
            count = sum(CONSENTS[rel] if part == "consents" else int(part)
                        for part in count.split("+"))
        return 200, (count if visible else 0)
    patient_self = base_role(role) == "patient" and rel == "patient-self"
    if kind == "update" and patient_self and types[0] in CO_OWNED:
        # The PUT replaces parts of the person's plan that are their care team's: refused,
        # naming the element (records/care_plan.cc).
        return 403, "-"
    if kind == "app-change":
        # Changes the plan's self-care section: the care team's, not the person's.
        return (403 if patient_self else 200 if visible else 404), "-"
    if kind == "co-own":
        return (200 if visible else 404), "-"
    if kind == "app-read":
        return (200 if visible else 404), "-"
    if kind == "app-create-plan":
        return (409 if visible else 404), "-"  # everyone has a current plan: one per person
    if kind == "app-create-goal":
        return (201 if visible else 404), "-"
    if kind in ("update", "consent-update"):
        # No record about a person is created by PUT (ids are the server's): a hidden one
        # answers exactly as a missing one.
        return (200 if visible else 404), "-"
    if kind == "create":
        return (201 if visible else 422), "-"
    if kind == "move":
        # A change of registered practice: only a role that registers people (creates
        # Patients), acting for the practice the person is registered with now.
        if not visible:
            return 404, "-"
        if PRACTICE[rel] == count:
            return 200, "-"
        registers = allows(role, "Patient", C) and PRACTICE[rel] == CALLERS_PRACTICE
        return (200 if registers else 403), "-"
    if kind == "update-to-hidden":
        # Both sides: the record's person now, and the one it would be about (p4, hidden,
        # refused as an unknown reference).
        return (422 if visible else 404), "-"
    if kind == "register":
        return 201, "-"
    raise ValueError(kind)


def main():
    print("route\tmethod\trole\trelationship\tstatus\tcount")
    for route, method, kind, types, letter, count in ROUTES:
        for role in list(MATRIX) + [r + "+rs" for r in READ_ONLY]:
            rels = PATIENT_RELATIONSHIPS if base_role(role) == "patient" else STAFF_RELATIONSHIPS
            for rel in rels:
                status, n = expect(route, method, kind, types, letter, count, role, rel)
                print(f"{route}\t{method}\t{role}\t{rel}\t{status}\t{n}")
        # No principal: only /metadata answers (the web application's API is behind the
        # server's session check, not in the API itself).
        if not route.startswith("/app/api/"):
            print(f"{route}\t{method}\t-\tanonymous\t401\t-")
    print("/metadata\tGET\t-\tanonymous\t200\t-")


if __name__ == "__main__":
    main()
