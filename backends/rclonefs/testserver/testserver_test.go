package testserver

import (
	"testing"
)

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"", "''"},
		{"http://127.0.0.1:9000", "'http://127.0.0.1:9000'"},
		{"a,b", "'a,b'"},
		{"it's", "'it''s'"},
		{`say "x"`, `'say "x"'`},
	} {
		if got := Quote(tc.in); got != tc.want {
			t.Errorf("Quote(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseAndRemote(t *testing.T) {
	s := &Server{}
	out := "type=s3\nprovider=Other\nendpoint=http://127.0.0.1:4321\nsecret_access_key=k,ey\n_connect=127.0.0.1:4321\n_path=ferry\n_later=x\nnoise\n"
	if err := s.parse([]byte(out)); err != nil {
		t.Fatal(err)
	}
	if s.Addr != "127.0.0.1:4321" || s.Path != "ferry" || s.Param("provider") != "Other" {
		t.Errorf("parsed %+v", s)
	}
	want := ":s3,provider=Other,endpoint='http://127.0.0.1:4321',secret_access_key='k,ey':ferry"
	if got := s.Remote(); got != want {
		t.Errorf("Remote() = %q, want %q", got, want)
	}
	want = ":s3,provider=Other,endpoint='http://127.0.0.1:99',secret_access_key='k,ey',region=x:ferry"
	if got := s.Remote(Param{"endpoint", "http://127.0.0.1:99"}, Param{"region", "x"}); got != want {
		t.Errorf("Remote(overrides) = %q, want %q", got, want)
	}
	for _, bad := range []string{"_connect=1.2.3.4:5\n", "type=s3\n", "type=s3\n_connect=10.0.0.1:80\n"} {
		if err := (&Server{}).parse([]byte(bad)); err == nil {
			t.Errorf("parse(%q) accepted it", bad)
		}
	}
}

func TestScriptsExist(t *testing.T) {
	for _, k := range Kinds {
		if _, err := scriptPath(k); err != nil {
			t.Error(err)
		}
	}
}
