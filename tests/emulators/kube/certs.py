"""The local control plane's PKI: one CA, the API server's serving certificate, client certificates, the
service-account signing key. Short-lived (one day) and written 0600 into the control plane's own directory."""

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_LIFETIME = datetime.timedelta(days=1)


def _write(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _name(common_name, organizations=()):
    parts = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    return x509.Name(parts + [x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


class Pki:
    """Creates the files under ``directory``; attributes name their paths."""

    def __init__(self, directory):
        self.directory = directory
        now = datetime.datetime.now(datetime.timezone.utc)
        self._not_before = now - datetime.timedelta(minutes=5)
        self._not_after = now + _LIFETIME
        self._ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = _name("accelci-local-control-plane-ca")
        self._ca_cert = (
            x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
            .public_key(self._ca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(self._not_before).not_valid_after(self._not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(self._ca_key, hashes.SHA256())
        )
        self.ca_pem = self._ca_cert.public_bytes(serialization.Encoding.PEM)
        self.ca_cert = _write(os.path.join(directory, "ca.crt"), self.ca_pem)
        self.serving_cert, self.serving_key = self._issue(
            "serving", "kube-apiserver", server=True,
            sans=[x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost"),
                  x509.DNSName("kubernetes"), x509.DNSName("kubernetes.default.svc")])
        # Service-account tokens: RSA, which every Kubernetes version signs with.
        sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.sa_key = _write(os.path.join(directory, "sa.key"), _key_pem(sa_key))
        self.sa_pub = _write(os.path.join(directory, "sa.pub"), sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))

    def _issue(self, stem, common_name, organizations=(), server=False, sans=()):
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder().subject_name(_name(common_name, organizations))
            .issuer_name(self._ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self._not_before).not_valid_after(self._not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server
                                                  else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
        cert = builder.sign(self._ca_key, hashes.SHA256())
        return (_write(os.path.join(self.directory, stem + ".crt"), cert.public_bytes(serialization.Encoding.PEM)),
                _write(os.path.join(self.directory, stem + ".key"), _key_pem(key)))

    def client(self, stem, user, groups=()):
        """(cert path, key path) of a client certificate for ``user`` in ``groups``."""
        return self._issue(stem, user, organizations=groups)
