//go:build tools

// Package controlplane pins the Kubernetes and etcd binaries that test/cluster builds.
// Nothing here is compiled into sts-doctor; `go build` of the listed commands is driven by
// test/cluster/build.
package controlplane

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
