"""Which tenant a call acts for."""

import grpc


class TenantResolver:
    """Resolves the caller's tenant from the call.

    Authentication is not built yet, so every call acts for the configured default tenant.
    """

    def __init__(self, default_tenant: str) -> None:
        self.default_tenant = default_tenant

    def tenant_of(self, context: grpc.aio.ServicerContext[object, object]) -> str:
        return self.default_tenant
