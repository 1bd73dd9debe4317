package jobwire

import (
	"crypto/tls"
	"errors"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// Defaults of the options below.
const (
	// DefaultCallTimeout is the deadline given to a unary call whose context has none.
	DefaultCallTimeout = 30 * time.Second
	// DefaultReconnectBaseDelay is the first wait before reconnecting a broken watch.
	DefaultReconnectBaseDelay = 100 * time.Millisecond
	// DefaultReconnectMaxDelay caps the wait between reconnection attempts.
	DefaultReconnectMaxDelay = 3 * time.Second
	// DefaultReconnectTimeout is how long a watch keeps trying to reconnect
	// without receiving an event before it gives up.
	DefaultReconnectTimeout = time.Minute
)

// minConnectTimeout bounds one connection attempt; gRPC's own default.
const minConnectTimeout = 20 * time.Second

var errTokenNeedsTLS = errors.New(
	"jobwire: WithBearerToken needs WithTLS; use WithInsecureBearerToken to send the token in plaintext")

// Option configures a Client; pass options to Dial.
type Option func(*config)

type config struct {
	tls              *tls.Config
	useTLS           bool
	token            string
	tokenWithoutTLS  bool
	callTimeout      time.Duration
	reconnect        reconnectPolicy
	extraDialOptions []grpc.DialOption
}

// reconnectPolicy says how a watch reconnects after its stream breaks.
type reconnectPolicy struct {
	baseDelay time.Duration
	maxDelay  time.Duration
	timeout   time.Duration
}

func newConfig(opts []Option) config {
	cfg := config{
		callTimeout: DefaultCallTimeout,
		reconnect: reconnectPolicy{
			baseDelay: DefaultReconnectBaseDelay,
			maxDelay:  DefaultReconnectMaxDelay,
			timeout:   DefaultReconnectTimeout,
		},
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	return cfg
}

// WithTLS connects over TLS with the given configuration; nil means the
// system's root certificates and default settings. Without this option the
// connection is plaintext.
func WithTLS(cfg *tls.Config) Option {
	return func(c *config) {
		c.tls = cfg
		c.useTLS = true
	}
}

// WithBearerToken sends "authorization: Bearer <token>" with every call.
// It requires WithTLS, so that the token never travels in plaintext.
func WithBearerToken(token string) Option {
	return func(c *config) {
		c.token = token
		c.tokenWithoutTLS = false
	}
}

// WithInsecureBearerToken is WithBearerToken that also works on a plaintext
// connection. Use it only where nobody can listen in, such as a server on
// localhost or inside a test.
func WithInsecureBearerToken(token string) Option {
	return func(c *config) {
		c.token = token
		c.tokenWithoutTLS = true
	}
}

// WithCallTimeout sets the deadline of each unary call whose context carries
// none (default DefaultCallTimeout); 0 leaves such calls without a deadline.
// Watches are long-lived and never get this deadline.
func WithCallTimeout(d time.Duration) Option {
	return func(c *config) { c.callTimeout = d }
}

// WithReconnectBackoff sets the first and the longest wait between attempts
// to reconnect, both for broken watch streams and for the underlying
// connection (defaults DefaultReconnectBaseDelay and DefaultReconnectMaxDelay).
func WithReconnectBackoff(baseDelay, maxDelay time.Duration) Option {
	return func(c *config) {
		c.reconnect.baseDelay = baseDelay
		c.reconnect.maxDelay = maxDelay
	}
}

// WithReconnectTimeout sets how long a broken watch keeps trying to reconnect
// without receiving an event before it reports the last error (default
// DefaultReconnectTimeout); 0 keeps trying until the watch's context ends.
func WithReconnectTimeout(d time.Duration) Option {
	return func(c *config) { c.reconnect.timeout = d }
}

// WithGRPCDialOptions passes extra options to grpc.NewClient, such as
// interceptors or a stats handler. They apply after the client's own options.
func WithGRPCDialOptions(opts ...grpc.DialOption) Option {
	return func(c *config) { c.extraDialOptions = append(c.extraDialOptions, opts...) }
}

// dialOptions turns the configuration into gRPC dial options.
func (c *config) dialOptions() ([]grpc.DialOption, error) {
	transport := insecure.NewCredentials()
	if c.useTLS {
		transport = credentials.NewTLS(c.tls)
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(transport),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: backoff.Config{
				BaseDelay:  c.reconnect.baseDelay,
				Multiplier: backoff.DefaultConfig.Multiplier,
				Jitter:     backoff.DefaultConfig.Jitter,
				MaxDelay:   c.reconnect.maxDelay,
			},
			MinConnectTimeout: minConnectTimeout,
		}),
	}
	if c.token != "" {
		if !c.useTLS && !c.tokenWithoutTLS {
			return nil, errTokenNeedsTLS
		}
		opts = append(opts, grpc.WithPerRPCCredentials(bearerToken{
			token:      c.token,
			requireTLS: !c.tokenWithoutTLS,
		}))
	}
	return append(opts, c.extraDialOptions...), nil
}
