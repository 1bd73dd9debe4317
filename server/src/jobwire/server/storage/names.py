"""Every name the store uses in MongoDB: collections, fields with a special role, indexes.

The index layout must serve the queries in jobs.py and batches.py; change them together.
"""

from pymongo import ASCENDING, DESCENDING, IndexModel

# Default collection and bucket names, kept from the system jobwire replaces.
JOBS_COLLECTION = "event_jobs"
BATCHES_COLLECTION = "event_batches"

# Holds "<tenant>\x1f<key>" only when a key was given: the unique sparse index below then
# ignores documents without one (a partialFilterExpression is not honoured everywhere).
IDEMPOTENCY_FIELD = "idempotency_scope"

# The dispatcher's claim: due pending jobs by priority, then age.
CLAIM_INDEX = IndexModel(
    [("status", ASCENDING), ("priority", DESCENDING), ("run_at", ASCENDING), ("_id", ASCENDING)],
    name="claim",
)
# The sweeper's search for leases that ran out.
LEASE_INDEX = IndexModel([("status", ASCENDING), ("lease_expires_at", ASCENDING)], name="lease")
# ListJobs by tenant, newest first, optionally within a batch or status.
TENANT_JOBS_INDEX = IndexModel([("tenant", ASCENDING), ("_id", DESCENDING)], name="tenant_jobs")
BATCH_JOBS_INDEX = IndexModel([("batch_id", ASCENDING), ("_id", ASCENDING)], name="batch_jobs")
JOB_IDEMPOTENCY_INDEX = IndexModel(
    [(IDEMPOTENCY_FIELD, ASCENDING)], name="idempotency", unique=True, sparse=True
)
# Lists the upload ids a job's parameters name, set at submission: uploads a job still
# names are kept when unreferenced files expire.
JOB_FILE_IDS_FIELD = "file_ids"
FILE_IDS_INDEX = IndexModel([(JOB_FILE_IDS_FIELD, ASCENDING)], name="file_ids", sparse=True)
JOB_INDEXES = [
    CLAIM_INDEX,
    LEASE_INDEX,
    TENANT_JOBS_INDEX,
    BATCH_JOBS_INDEX,
    JOB_IDEMPOTENCY_INDEX,
    FILE_IDS_INDEX,
]

# ListBatches by tenant, newest first; the sweeper's search for stale open batches.
TENANT_BATCHES_INDEX = IndexModel(
    [("tenant", ASCENDING), ("_id", DESCENDING)], name="tenant_batches"
)
OPEN_BATCHES_INDEX = IndexModel([("status", ASCENDING), ("updated_at", ASCENDING)], name="open")
BATCH_IDEMPOTENCY_INDEX = IndexModel(
    [(IDEMPOTENCY_FIELD, ASCENDING)], name="idempotency", unique=True, sparse=True
)
BATCH_INDEXES = [TENANT_BATCHES_INDEX, OPEN_BATCHES_INDEX, BATCH_IDEMPOTENCY_INDEX]

# Default GridFS buckets of uploads (UploadFile) and of files jobs produce.
UPLOADS_BUCKET = "uploads"
ARTIFACTS_BUCKET = "artifacts"

# Most log lines a job document keeps; older ones are dropped.
JOB_LOG_LIMIT = 100
