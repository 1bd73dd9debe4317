package jobwire

import "context"

// bearerToken implements credentials.PerRPCCredentials with a static token.
type bearerToken struct {
	token      string
	requireTLS bool
}

// GetRequestMetadata returns the authorization header sent with each call.
func (b bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

// RequireTransportSecurity tells gRPC whether the token may only travel over TLS.
func (b bearerToken) RequireTransportSecurity() bool {
	return b.requireTLS
}
