package hdfs

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// fakeS3 runs an in-process S3 with one bucket and returns its URL and a
// client to inspect it.
func fakeS3(t *testing.T, bucket string) (string, *minio.Client, *http.Transport) {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	tr := &http.Transport{}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
	})
	client, err := minio.New(srv.Listener.Addr().String(), &minio.Options{
		Creds: credentials.NewStaticV4("AK", "SK", ""), BucketLookup: minio.BucketLookupPath, Transport: tr, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return srv.URL, client, tr
}

func listObjects(t *testing.T, c *minio.Client, bucket string) map[string]string {
	t.Helper()
	out := map[string]string{}
	ctx := context.Background()
	for obj := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		r, err := c.GetObject(ctx, bucket, obj.Key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		_ = r.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[obj.Key] = string(b)
	}
	return out
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestS3(t *testing.T) {
	url, client, tr := fakeS3(t, "logs")
	spool := t.TempDir()
	// A file a crashed run left in the spool: uploaded at start.
	left := filepath.Join(spool, "app", "2024", "FlumeData.1600000000000.tmp")
	if err := os.MkdirAll(filepath.Dir(left), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(left, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, noRolls(map[string]string{
		"hdfs.path": "s3://logs/app/%Y", "hdfs.rollCount": "2",
		"hdfs.s3.endpoint": url, "hdfs.s3.accessKey": "AK", "hdfs.s3.secretKey": "SK",
		"hdfs.s3.region": "us-east-1", "hdfs.s3.pathStyle": "true", "hdfs.s3.spoolDir": spool,
	}), func(c *Config) { c.S3.Transport = tr })
	putEvents(t, h.ch, evs("e", 5)...)
	h.mustProcess()
	got := listObjects(t, client, "logs")
	// Two complete files are objects; the third is still in the spool.
	equal(t, "objects", keys(got), []string{"app/2024/FlumeData.1600000000000", "app/2024/FlumeData." + ms, "app/2024/FlumeData.1709634030001"})
	if got["app/2024/FlumeData."+ms] != "e0\ne1\n" || got["app/2024/FlumeData.1600000000000"] != "old\n" {
		t.Fatalf("objects %q", got)
	}
	if err := h.sink.Stop(); err != nil {
		t.Fatal(err)
	}
	got = listObjects(t, client, "logs")
	if got["app/2024/FlumeData.1709634030002"] != "e4\n" || len(got) != 4 {
		t.Fatalf("after stop %q", got)
	}
	var spooled []string
	_ = filepath.Walk(spool, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			spooled = append(spooled, p)
		}
		return nil
	})
	if len(spooled) != 0 {
		t.Fatalf("spool not emptied: %v", spooled)
	}
}
