# 7. Forms: urlencoded -> getParsedBody(); multipart with fields and files
#    -> getParsedBody() + getUploadedFiles() (name, type, size, error,
#    tmp name), moveTo() and content integrity.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Digest::MD5 qw(md5_hex);
use File::Path qw(remove_tree);
use TATest qw(raw_request json_decode);

plan tests => 46;

# ------------------------------------------------------------ urlencoded
my $form = 'name=J%C3%B6rg&tags%5B%5D=a&tags%5B%5D=b&empty=&plus=a+b'
         . '&nested%5Bk%5D=v&amp=1%262';
my $r = raw_request(undef, method => 'POST', path => '/api/form', body => $form,
                    headers => ['Content-Type' => 'application/x-www-form-urlencoded']);
is $r->{status}, 200, 'urlencoded POST -> 200';
my $j = eval { json_decode($r->{body}) } || {};
my $p = $j->{parsed};
is ref $p, 'HASH', 'getParsedBody() is an array';
is $p->{name}, "J\x{f6}rg", 'utf-8 value decoded';
is_deeply $p->{tags}, ['a', 'b'], 'tags[] -> list';
is $p->{empty}, '', 'empty value';
is $p->{plus}, 'a b', '+ is a space';
is_deeply $p->{nested}, { k => 'v' }, 'nested[k] -> map';
is $p->{amp}, '1&2', '%26 decoded';
is $j->{body_len}, length $form, 'getBody() still has the raw body';

# charset parameter on the content type
$r = raw_request(undef, method => 'POST', path => '/api/form', body => 'a=1',
                 headers => ['Content-Type' => 'application/x-www-form-urlencoded; charset=UTF-8']);
$j = eval { json_decode($r->{body}) } || {};
is_deeply $j->{parsed}, { a => '1' }, 'content type with charset parameter parsed';

# not a form -> null
$r = raw_request(undef, method => 'POST', path => '/api/form', body => '{"a":1}',
                 headers => ['Content-Type' => 'application/json']);
$j = eval { json_decode($r->{body}) } || {};
ok $j->{parsed_is_null}, 'getParsedBody() is null for application/json';
is $j->{body_len}, 7, 'JSON body available through getBody()';

# ------------------------------------------------------------ multipart
my $avatar = join '', map { chr(int rand 256) } 1 .. 100_000;
$avatar .= "\r\n--not-the-boundary\r\n";      # boundary-like bytes inside
my @docs = ("first document\r\nline two\n", "second\0document " x 500);
my $B = 'TaBoundary' . int(rand 1e9);
my $mp = '';
my $field = sub {
    my ($name, $value) = @_;
    $mp .= "--$B\r\nContent-Disposition: form-data; name=\"$name\"\r\n\r\n$value\r\n";
};
my $file = sub {
    my ($name, $fname, $type, $data) = @_;
    $mp .= "--$B\r\nContent-Disposition: form-data; name=\"$name\"; filename=\"$fname\"\r\n"
         . "Content-Type: $type\r\n\r\n$data\r\n";
};
$field->('title', 'hello world');
$field->('labels[]', 'x');
$field->('labels[]', 'y');
$file->('avatar', 'me.png', 'image/png', $avatar);
$file->('docs[]', 'a.txt', 'text/plain', $docs[0]);
$file->('docs[]', 'b.bin', 'application/octet-stream', $docs[1]);
$field->('after', 'files');
$mp .= "--$B--\r\n";

my $id = "up$$" . int(rand 1e6);
$r = raw_request(undef, method => 'POST', path => "/api/upload?id=$id", body => $mp,
                 headers => ['Content-Type' => "multipart/form-data; boundary=$B"]);
is $r->{status}, 200, 'multipart POST -> 200';
$j = eval { json_decode($r->{body}) } || {};
$p = $j->{parsed};
is ref $p, 'HASH', 'getParsedBody() is an array for multipart' or diag $r->{body};
is $p->{title}, 'hello world', 'text field';
is_deeply $p->{labels}, ['x', 'y'], 'labels[] field list';
is $p->{after}, 'files', 'field after the files';
ok !exists $p->{avatar}, 'files are not in getParsedBody()';

my $f = $j->{files} || {};
my $a = $f->{avatar} || {};
is $a->{name}, 'me.png', 'avatar getName()';
is $a->{type}, 'image/png', 'avatar getType()';
is $a->{size}, length $avatar, 'avatar getSize()';
is $a->{error}, 0, 'avatar getError() == UPLOAD_ERR_OK';
ok $a->{tmp_exists}, 'avatar getTmpName() is an existing file';
is $a->{tmp_md5}, md5_hex($avatar), 'avatar temp file content intact';
like $a->{class} // '', qr/UploadedFile$/, 'UploadedFile object';

my $d = $f->{docs};
is ref $d, 'ARRAY', 'docs[] -> list of UploadedFile';
is scalar(@{ $d || [] }), 2, 'two docs';
my @d = @{ $d || [] };
is $d[0]{name}, 'a.txt', 'docs[0] name';
is $d[0]{type}, 'text/plain', 'docs[0] type';
is $d[0]{size}, length $docs[0], 'docs[0] size';
is $d[0]{error}, 0, 'docs[0] error';
is $d[0]{tmp_md5}, md5_hex($docs[0]), 'docs[0] content';
is $d[1]{name}, 'b.bin', 'docs[1] name';
is $d[1]{type}, 'application/octet-stream', 'docs[1] type';
is $d[1]{size}, length $docs[1], 'docs[1] size';
is $d[1]{error}, 0, 'docs[1] error';
is $d[1]{tmp_md5}, md5_hex($docs[1]), 'docs[1] content';

my $m = $j->{moved} || {};
ok $m->{avatar}{ok}, 'moveTo() returned true';
ok $m->{avatar}{exists}, 'moved file exists (PHP side)';
is $m->{avatar}{md5}, md5_hex($avatar), 'moved file content intact (PHP side)';
ok !$m->{avatar}{tmp_still_exists}, 'temp file is gone after moveTo()';
my $path = $m->{avatar}{path} // '';
ok -f $path, "moved file exists on disk ($path)";
my $disk = '';
if (open my $fh, '<:raw', $path) { local $/; $disk = <$fh> }
ok $disk eq $avatar, 'moved file on disk is byte-identical';
ok $m->{doc1}{ok}, 'moveTo() of docs[1]';
is $m->{doc1}{md5}, md5_hex($docs[1]), 'moved docs[1] intact';

(my $dir = $path) =~ s{/[^/]+$}{};
remove_tree($dir) if $dir =~ m{/trueasync-upload-};

# the server goes on
$r = raw_request(undef, path => '/api/req');
is $r->{status}, 200, 'next request -> 200';
