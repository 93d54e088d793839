// Package storage is cloudless's embedded IPFS node: an on-disk
// blockstore in the repo's ipfs/ directory (flatfs for blocks and leveldb
// for pins, the layout kubo uses by default), UnixFS import with the
// exact parameters of kubo's `ipfs add --cid-version=1` (so a CID printed
// by `cloudless publish` is the one any IPFS implementation computes),
// UnixFS export with size caps and timeouts, recursive and direct pins,
// garbage collection of unpinned blocks under a cache budget, CAR import
// and export, a repo verifier, and a bitswap client and server on a libp2p
// host the caller owns.
//
// Every block that arrives from a peer is hashed by bitswap's decoder and
// accepted only under the CID its bytes hash to; a block we did not ask
// for (which is what a block with a wrong hash becomes) is dropped and its
// sender disconnected. Every block read from disk is re-hashed too, so a
// corrupt repo gives ErrCorruptRepo instead of wrong bytes.
//
// Use:
//
//	st, err := storage.Open(ctx, filepath.Join(repo, "ipfs"), nil)
//	defer st.Close()
//	c, err := st.AddPath(ctx, "hello.wasm")        // pinned; c is kubo's CID
//	err = st.Serve(ctx, h, dht)                      // bitswap on host h
//	b, err := st.ReadFile(ctx, c, 64<<20)            // fetched if missing
//
// Specs: UnixFS https://specs.ipfs.tech/unixfs/, bitswap
// https://specs.ipfs.tech/bitswap-protocol/, CAR
// https://ipld.io/specs/transport/car/carv1/. Design notes are in
// docs/rationale/storage.md.
package storage
