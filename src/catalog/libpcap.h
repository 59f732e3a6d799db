/*
 * shimulator's built-in catalog: prototypes of the public functions of libpcap 1.10.3 (libpcap.so.0.8), as
 * declared by <pcap/pcap.h>, <pcap/bpf.h> and <pcap/namedb.h> on Linux. Parsed after libc.h, whose types
 * (struct timeval, struct sockaddr, struct addrinfo, FILE) it uses. Same format as libc.h (see there).
 */

/* @types */

typedef struct pcap pcap_t;
typedef struct pcap_dumper pcap_dumper_t;
typedef struct pcap_if pcap_if_t;
typedef struct pcap_addr pcap_addr_t;

struct pcap_file_header {
  bpf_u_int32 magic;
  u_short version_major;
  u_short version_minor;
  bpf_int32 thiszone;
  bpf_u_int32 sigfigs;
  bpf_u_int32 snaplen;
  bpf_u_int32 linktype;
};

typedef enum { PCAP_D_INOUT = 0, PCAP_D_IN, PCAP_D_OUT } pcap_direction_t;

struct pcap_pkthdr {
  struct timeval ts;
  bpf_u_int32 caplen;
  bpf_u_int32 len;
};

struct pcap_stat {
  u_int ps_recv;
  u_int ps_drop;
  u_int ps_ifdrop;
};

struct pcap_if {
  struct pcap_if *next;
  char *name;
  char *description;
  struct pcap_addr *addresses;
  bpf_u_int32 flags;
};

struct pcap_addr {
  struct pcap_addr *next;
  struct sockaddr *addr;
  struct sockaddr *netmask;
  struct sockaddr *broadaddr;
  struct sockaddr *dstaddr;
};

typedef void (*pcap_handler)(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes);

struct bpf_insn {
  u_short code;
  u_char jt;
  u_char jf;
  bpf_u_int32 k;
};

struct bpf_program {
  u_int bf_len;
  struct bpf_insn *bf_insns;
};

struct pcap_etherent {
  u_char addr[6];
  char name[122];
};

/* @header pcap.h */

int pcap_init(unsigned int opts, char *errbuf);
char *pcap_lookupdev(char *errbuf);
int pcap_lookupnet(const char *device, bpf_u_int32 *netp, bpf_u_int32 *maskp, char *errbuf);
pcap_t *pcap_create(const char *source, char *errbuf);
int pcap_set_snaplen(pcap_t *p, int snaplen);
int pcap_set_promisc(pcap_t *p, int promisc);
int pcap_can_set_rfmon(pcap_t *p);
int pcap_set_rfmon(pcap_t *p, int rfmon);
int pcap_set_timeout(pcap_t *p, int to_ms);
int pcap_set_tstamp_type(pcap_t *p, int tstamp_type);
int pcap_set_immediate_mode(pcap_t *p, int immediate_mode);
int pcap_set_buffer_size(pcap_t *p, int buffer_size);
int pcap_set_tstamp_precision(pcap_t *p, int tstamp_precision);
int pcap_get_tstamp_precision(pcap_t *p);
int pcap_set_protocol_linux(pcap_t *p, int protocol);
int pcap_activate(pcap_t *p);
int pcap_list_tstamp_types(pcap_t *p, int **tstamp_typesp);
void pcap_free_tstamp_types(int *tstamp_types);
int pcap_tstamp_type_name_to_val(const char *name);
const char *pcap_tstamp_type_val_to_name(int tstamp_type);
const char *pcap_tstamp_type_val_to_description(int tstamp_type);
pcap_t *pcap_open_live(const char *device, int snaplen, int promisc, int to_ms, char *errbuf);
pcap_t *pcap_open_dead(int linktype, int snaplen);
pcap_t *pcap_open_dead_with_tstamp_precision(int linktype, int snaplen, u_int precision);
pcap_t *pcap_open_offline(const char *fname, char *errbuf);
pcap_t *pcap_open_offline_with_tstamp_precision(const char *fname, u_int precision, char *errbuf);
pcap_t *pcap_fopen_offline(FILE *fp, char *errbuf);
pcap_t *pcap_fopen_offline_with_tstamp_precision(FILE *fp, u_int precision, char *errbuf);
void pcap_close(pcap_t *p);
int pcap_loop(pcap_t *p, int cnt, pcap_handler callback, u_char *user);
int pcap_dispatch(pcap_t *p, int cnt, pcap_handler callback, u_char *user);
const u_char *pcap_next(pcap_t *p, struct pcap_pkthdr *h);
int pcap_next_ex(pcap_t *p, struct pcap_pkthdr **pkt_header, const u_char **pkt_data);
void pcap_breakloop(pcap_t *p);
int pcap_stats(pcap_t *p, struct pcap_stat *ps);
int pcap_setfilter(pcap_t *p, struct bpf_program *fp);
int pcap_setdirection(pcap_t *p, pcap_direction_t d);
int pcap_getnonblock(pcap_t *p, char *errbuf);
int pcap_setnonblock(pcap_t *p, int nonblock, char *errbuf);
int pcap_inject(pcap_t *p, const void *buf, size_t size);
int pcap_sendpacket(pcap_t *p, const u_char *buf, int size);
const char *pcap_statustostr(int error);
const char *pcap_strerror(int error);
char *pcap_geterr(pcap_t *p);
void pcap_perror(pcap_t *p, const char *prefix);
int pcap_compile(pcap_t *p, struct bpf_program *fp, const char *str, int optimize, bpf_u_int32 netmask);
int pcap_compile_nopcap(int snaplen_arg, int linktype_arg, struct bpf_program *program, const char *buf, int optimize, bpf_u_int32 mask);
void pcap_freecode(struct bpf_program *fp);
int pcap_offline_filter(const struct bpf_program *fp, const struct pcap_pkthdr *h, const u_char *pkt);
int pcap_datalink(pcap_t *p);
int pcap_datalink_ext(pcap_t *p);
int pcap_list_datalinks(pcap_t *p, int **dlt_buf);
int pcap_set_datalink(pcap_t *p, int dlt);
void pcap_free_datalinks(int *dlt_list);
int pcap_datalink_name_to_val(const char *name);
const char *pcap_datalink_val_to_name(int dlt);
const char *pcap_datalink_val_to_description(int dlt);
const char *pcap_datalink_val_to_description_or_dlt(int dlt);
int pcap_snapshot(pcap_t *p);
int pcap_is_swapped(pcap_t *p);
int pcap_major_version(pcap_t *p);
int pcap_minor_version(pcap_t *p);
int pcap_bufsize(pcap_t *p);
FILE *pcap_file(pcap_t *p);
int pcap_fileno(pcap_t *p);
int pcap_get_selectable_fd(pcap_t *p);
const struct timeval *pcap_get_required_select_timeout(pcap_t *p);
pcap_dumper_t *pcap_dump_open(pcap_t *p, const char *fname);
pcap_dumper_t *pcap_dump_fopen(pcap_t *p, FILE *fp);
pcap_dumper_t *pcap_dump_open_append(pcap_t *p, const char *fname);
FILE *pcap_dump_file(pcap_dumper_t *p);
long pcap_dump_ftell(pcap_dumper_t *p);
int64_t pcap_dump_ftell64(pcap_dumper_t *p);
int pcap_dump_flush(pcap_dumper_t *p);
void pcap_dump_close(pcap_dumper_t *p);
void pcap_dump(u_char *user, const struct pcap_pkthdr *h, const u_char *sp);
int pcap_findalldevs(pcap_if_t **alldevsp, char *errbuf);
void pcap_freealldevs(pcap_if_t *alldevs);
const char *pcap_lib_version(void);

/* @header pcap/bpf.h */

u_int bpf_filter(const struct bpf_insn *pc, const u_char *p, u_int wirelen, u_int buflen);
int bpf_validate(const struct bpf_insn *f, int len);
char *bpf_image(const struct bpf_insn *p, int n);
void bpf_dump(const struct bpf_program *p, int option);

/* @header pcap/namedb.h */

struct pcap_etherent *pcap_next_etherent(FILE *fp);
u_char *pcap_ether_hostton(const char *name);
u_char *pcap_ether_aton(const char *s);
bpf_u_int32 **pcap_nametoaddr(const char *name);
struct addrinfo *pcap_nametoaddrinfo(const char *name);
bpf_u_int32 pcap_nametonetaddr(const char *name);
int pcap_nametoport(const char *name, int *port, int *proto);
int pcap_nametoportrange(const char *name, int *port1, int *port2, int *proto);
int pcap_nametoproto(const char *str);
int pcap_nametoeproto(const char *s);
int pcap_nametollc(const char *s);
