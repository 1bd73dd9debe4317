"""When a failed attempt runs again: exponential backoff with jitter, from tenacity."""

from dataclasses import dataclass

from tenacity import RetryCallState, wait_exponential_jitter


@dataclass(frozen=True)
class RetryPolicy:
    """Delays before retries; the server's defaults are WorkerSettings.backoff_*."""

    initial: float = 1.0
    """Seconds before the second attempt; each later delay doubles."""
    maximum: float = 300.0
    """Longest delay in seconds."""
    jitter: float = 1.0
    """Up to this many random seconds added, so that failed jobs do not retry in step."""

    def delay(self, failed_attempt: int) -> float:
        """Seconds to wait after attempt `failed_attempt` (1-based) failed."""
        wait = wait_exponential_jitter(
            multiplier=self.initial, max=self.maximum, jitter=self.jitter
        )
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = failed_attempt
        return float(wait(state))
