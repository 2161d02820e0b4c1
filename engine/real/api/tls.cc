#include "engine/real/api/tls.h"

#include <grpcpp/security/server_credentials.h>

#include <fstream>
#include <sstream>

namespace meridian::real::api {

Result<std::string> read_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::not_found(what + ": cannot read '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<TlsPem> load_tls(const TlsFiles& files) {
  TlsPem pem;
  struct Item {
    const std::string& path;
    const char* field;
    const char* marker;
    std::string* out;
  };
  const Item items[] = {{files.ca, "tls.ca", "CERTIFICATE", &pem.ca},
                        {files.cert, "tls.cert", "CERTIFICATE", &pem.cert},
                        {files.key, "tls.key", "PRIVATE KEY", &pem.key}};
  for (const Item& item : items) {
    if (item.path.empty()) return Status::invalid_argument(std::string(item.field) + " is empty");
    Result<std::string> text = read_file(item.path, item.field);
    if (!text.is_ok()) return text.status();
    if (text->find(std::string("-----BEGIN ")) == std::string::npos ||
        text->find(item.marker) == std::string::npos) {
      return Status::invalid_argument(std::string(item.field) + ": '" + item.path +
                                      "' is not a PEM " + item.marker);
    }
    *item.out = std::move(text).value();
  }
  return pem;
}

std::shared_ptr<grpc::ServerCredentials> server_credentials(const TlsPem& pem) {
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = pem.ca;
  options.pem_key_cert_pairs.push_back({pem.key, pem.cert});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> channel_credentials(const TlsPem& pem) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = pem.ca;
  options.pem_private_key = pem.key;
  options.pem_cert_chain = pem.cert;
  return grpc::SslCredentials(options);
}

}  // namespace meridian::real::api
