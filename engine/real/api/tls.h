// The PEM files of a node's (or client's) mutual-TLS identity, and gRPC credentials made from
// them. Every party of a deployment holds the cluster CA, a certificate signed by it and the
// certificate's key; tests/gen_certs.sh makes a throwaway set.
//
// Server credentials require and verify a client certificate signed by the cluster CA
// (GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY): a client without a certificate,
// or with one from another CA, fails the handshake and never reaches a handler. Channel
// credentials present the certificate and verify the server's against the same CA; the server's
// certificate must name the host the client dials (or `server_name`, when set, overrides the
// name checked, e.g. "localhost" for a certificate issued to that name).
#pragma once

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "engine/core/status.h"

namespace meridian::real::api {

struct TlsFiles {
  std::string ca;    // cluster CA certificate (PEM)
  std::string cert;  // this party's certificate chain (PEM)
  std::string key;   // its private key (PEM)
};

struct TlsPem {
  std::string ca, cert, key;
};

// Reads the three files; not_found / invalid_argument naming the file and the field.
Result<TlsPem> load_tls(const TlsFiles& files);
// The whole file; not_found naming it if it cannot be read.
Result<std::string> read_file(const std::string& path, const std::string& what);

std::shared_ptr<grpc::ServerCredentials> server_credentials(const TlsPem& pem);
std::shared_ptr<grpc::ChannelCredentials> channel_credentials(const TlsPem& pem);

}  // namespace meridian::real::api
