package rclonefs

import (
	"strings"
	"testing"
)

func TestIsLocal(t *testing.T) {
	for remote, want := range map[string]bool{
		"/home/me/vault":              true,
		"vault":                       true,
		"./notes":                     true,
		"vault-s3:notes":              false,
		"nas:":                        false,
		":webdav,url='http://h/d':v":  false,
		":s3,provider=AWS:bucket/dir": false,
	} {
		if got := IsLocal(remote); got != want {
			t.Errorf("IsLocal(%q) = %v, want %v", remote, got, want)
		}
	}
}

func TestSafeNameLeavesSecretsOut(t *testing.T) {
	got := SafeName(":webdav,url='https://cloud.example.com/dav',vendor=other,user=me,pass=c2VjcmV0c2VjcmV0:vault")
	if strings.Contains(got, "c2VjcmV0c2VjcmV0") || !strings.Contains(got, "vendor=other") || !strings.HasSuffix(got, ":vault") {
		t.Errorf("SafeName = %q", got)
	}
	if got := SafeName("/home/me/vault"); got != "/home/me/vault" {
		t.Errorf("SafeName of a local path = %q", got)
	}
}
