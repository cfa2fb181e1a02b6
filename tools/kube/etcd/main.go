// Command etcd is a single-member etcd for the local control plane, embedding the etcd server library.
//
// Flags: -data-dir, -listen-client (host:port). It serves plain HTTP on loopback only: the API server is
// its one client, on the same host.
package main

import (
	"flag"
	"log"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"go.etcd.io/etcd/server/v3/embed"
)

func main() {
	dataDir := flag.String("data-dir", "", "directory for the member's data (required)")
	listenClient := flag.String("listen-client", "127.0.0.1:2379", "host:port for clients")
	listenPeer := flag.String("listen-peer", "127.0.0.1:2380", "host:port for peers (unused, but etcd needs one)")
	flag.Parse()
	if *dataDir == "" {
		log.Fatal("etcd: -data-dir is required")
	}
	cfg := embed.NewConfig()
	cfg.Dir = *dataDir
	cfg.LogLevel = "error"
	client := url.URL{Scheme: "http", Host: *listenClient}
	peer := url.URL{Scheme: "http", Host: *listenPeer}
	cfg.ListenClientUrls = []url.URL{client}
	cfg.AdvertiseClientUrls = []url.URL{client}
	cfg.ListenPeerUrls = []url.URL{peer}
	cfg.AdvertisePeerUrls = []url.URL{peer}
	cfg.InitialCluster = cfg.Name + "=" + peer.String()

	server, err := embed.StartEtcd(cfg)
	if err != nil {
		log.Fatalf("etcd: start: %v", err)
	}
	defer server.Close()
	select {
	case <-server.Server.ReadyNotify():
		log.Printf("etcd: ready, serving clients on %s", client.String())
	case err := <-server.Err():
		log.Fatalf("etcd: %v", err)
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	select {
	case sig := <-signals:
		log.Printf("etcd: %v, stopping", sig)
	case err := <-server.Err():
		log.Fatalf("etcd: %v", err)
	}
}
