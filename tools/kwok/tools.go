//go:build tools

// Package tools pins kwok, which stands in for the nodes and kubelets of the local control plane.
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
