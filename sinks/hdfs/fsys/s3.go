package fsys

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config says how to reach a bucket. Empty fields are taken from the
// standard AWS environment variables: AWS_ENDPOINT_URL (default
// s3.amazonaws.com over TLS), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN, AWS_REGION or AWS_DEFAULT_REGION.
type S3Config struct {
	Bucket string
	// Endpoint is host[:port], or a URL whose scheme sets UseSSL.
	Endpoint  string
	AccessKey string
	SecretKey string
	Region    string
	// UseSSL is used when Endpoint has no scheme; nil means true.
	UseSSL *bool
	// SpoolDir holds the files being written until they are uploaded.
	SpoolDir string
	// PathStyle forces path-style requests (needed by most S3 look-alikes).
	PathStyle bool
	// Transport replaces the HTTP transport (tests).
	Transport http.RoundTripper
}

// S3 is an FS over one bucket: files are spooled locally and uploaded whole.
type S3 struct {
	client *minio.Client
	bucket string
	spool  Local
	dir    string
}

// NewS3 makes the client; it does not contact the endpoint.
func NewS3(cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3: no bucket: write the path as s3://bucket/prefix")
	}
	if cfg.SpoolDir == "" {
		return nil, errors.New("s3: no spool directory")
	}
	endpoint, secure := cfg.Endpoint, true
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	if cfg.UseSSL != nil {
		secure = *cfg.UseSSL
	}
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil {
			return nil, fmt.Errorf("s3: endpoint %q: %w", endpoint, err)
		}
		endpoint, secure = u.Host, u.Scheme == "https"
	}
	if endpoint == "" {
		endpoint = "s3.amazonaws.com"
	}
	var creds *credentials.Credentials
	if cfg.AccessKey != "" || cfg.SecretKey != "" {
		creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	} else {
		creds = credentials.NewEnvAWS()
	}
	region := cfg.Region
	if region == "" {
		region = os.Getenv("AWS_REGION")
	}
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	opts := &minio.Options{Creds: creds, Secure: secure, Region: region, Transport: cfg.Transport}
	if cfg.PathStyle {
		opts.BucketLookup = minio.BucketLookupPath
	}
	c, err := minio.New(endpoint, opts)
	if err != nil {
		return nil, fmt.Errorf("s3: client for %s: %w", endpoint, err)
	}
	return &S3{client: c, bucket: cfg.Bucket, dir: cfg.SpoolDir}, nil
}

func (s *S3) spoolPath(name string) string {
	return filepath.Join(s.dir, filepath.FromSlash(strings.TrimPrefix(name, "/")))
}

func key(name string) string { return strings.TrimPrefix(name, "/") }

// Create starts a spool file for name.
func (s *S3) Create(ctx context.Context, name string) (File, error) {
	f, err := s.spool.Create(ctx, s.spoolPath(name))
	if err != nil {
		return nil, fmt.Errorf("s3: spool for %s: %w", name, err)
	}
	return f, nil
}

// Rename uploads the spool file of oldname as the object newname and removes
// the spool file. The upload asks S3 not to replace an existing object
// (If-None-Match: *), after checking that none exists for services that
// ignore the condition.
func (s *S3) Rename(ctx context.Context, oldname, newname string) error {
	k := key(newname)
	if _, err := s.client.StatObject(ctx, s.bucket, k, minio.StatObjectOptions{}); err == nil {
		return fmt.Errorf("s3: s3://%s/%s: %w", s.bucket, k, fs.ErrExist)
	} else if minio.ToErrorResponse(err).StatusCode != http.StatusNotFound {
		return fmt.Errorf("s3: stat s3://%s/%s: %w", s.bucket, k, err)
	}
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream"}
	opts.SetMatchETagExcept("*")
	if _, err := s.client.FPutObject(ctx, s.bucket, k, s.spoolPath(oldname), opts); err != nil {
		if minio.ToErrorResponse(err).StatusCode == http.StatusPreconditionFailed {
			return fmt.Errorf("s3: s3://%s/%s: %w", s.bucket, k, fs.ErrExist)
		}
		return fmt.Errorf("s3: upload to s3://%s/%s: %w", s.bucket, k, err)
	}
	if err := os.Remove(s.spoolPath(oldname)); err != nil {
		return fmt.Errorf("s3: uploaded s3://%s/%s but cannot remove the spool file: %w", s.bucket, k, err)
	}
	return nil
}

// Remove deletes a spool file (files are objects only once renamed).
func (s *S3) Remove(_ context.Context, name string) error { return os.Remove(s.spoolPath(name)) }

// Walk lists the spool under root: the files not yet uploaded.
func (s *S3) Walk(ctx context.Context, root string, fn func(string, int64) error) error {
	return s.spool.Walk(ctx, s.spoolPath(root), func(p string, size int64) error {
		rel, err := filepath.Rel(s.dir, p)
		if err != nil {
			return err
		}
		return fn("/"+filepath.ToSlash(rel), size)
	})
}

// Close does nothing: the client holds no connection of its own.
func (s *S3) Close() error { return nil }
