<?php
// The extension cases of t/trueasync/82_extensions.t. Each does something
// real and returns what it got; the worker (t/php/extensions.php) runs them
// inside requests and Debian's php8.2 CLI runs this file directly
// (`php8.2 ext_cases.php` prints them as JSON): the CLI is the reference.

function ext_cases(string $tmp): array
{
    $cases = [];

    $f = new NumberFormatter('de_DE', NumberFormatter::DECIMAL);
    $c = new NumberFormatter('en_US', NumberFormatter::CURRENCY);
    $cases['intl'] = [$f->format(1234567.891), $c->formatCurrency(1234.5, 'EUR'),
                      IntlChar::charName('€')];

    // a PNG made and read back: the pixels, not the encoder's bytes
    $im = imagecreatetruecolor(7, 5);
    imagefilledrectangle($im, 0, 0, 6, 4, imagecolorallocate($im, 10, 200, 30));
    imagesetpixel($im, 3, 2, imagecolorallocate($im, 250, 5, 128));
    ob_start();
    imagepng($im);
    $png = ob_get_clean();
    $back = imagecreatefromstring($png);
    $px = [];
    for ($y = 0; $y < 5; $y++) for ($x = 0; $x < 7; $x++) $px[] = imagecolorat($back, $x, $y);
    $info = gd_info();
    $cases['gd'] = [substr($png, 0, 8) === "\x89PNG\r\n\x1a\n", getimagesizefromstring($png)[3],
                    md5(implode(',', $px)), $info['JPEG Support'], $info['PNG Support'],
                    $info['WebP Support'], $info['FreeType Support']];

    $cases['bcmath'] = [bcadd('12345678901234567890.123', '98765432109876543210.877', 3),
                        bcmul('-3.14159', '2.5', 4), bcpowmod('4', '13', '497')];

    $zf = "$tmp/ta-ext-" . bin2hex(random_bytes(6)) . '.zip';
    $z = new ZipArchive();
    $z->open($zf, ZipArchive::CREATE | ZipArchive::OVERWRITE);
    $z->addFromString('a.txt', str_repeat('hello ', 100));
    $z->addFromString('dir/b.json', json_encode(['k' => [1, 2, 3]]));
    $z->close();
    $z = new ZipArchive();
    $z->open($zf);
    $cases['zip'] = [$z->numFiles, $z->getNameIndex(1), strlen($z->getFromName('a.txt')),
                     $z->getFromName('dir/b.json'), $z->statName('a.txt')['size']];
    $z->close();
    unlink($zf);

    // fixed keys and nonce: the box's bytes are fixed too
    $alice = sodium_crypto_box_seed_keypair(str_repeat("\x01", SODIUM_CRYPTO_BOX_SEEDBYTES));
    $bob = sodium_crypto_box_seed_keypair(str_repeat("\x02", SODIUM_CRYPTO_BOX_SEEDBYTES));
    $nonce = str_repeat("\x03", SODIUM_CRYPTO_BOX_NONCEBYTES);
    $box = sodium_crypto_box('attack at dawn', $nonce, sodium_crypto_box_keypair_from_secretkey_and_publickey(
        sodium_crypto_box_secretkey($alice), sodium_crypto_box_publickey($bob)));
    $open = sodium_crypto_box_open($box, $nonce, sodium_crypto_box_keypair_from_secretkey_and_publickey(
        sodium_crypto_box_secretkey($bob), sodium_crypto_box_publickey($alice)));
    $cases['sodium'] = [bin2hex($box), $open];

    $data = ['id' => 42, 'name' => 'Zoë', 'tags' => ['a', 'b'], 'score' => 1.5, 'ok' => true, 'none' => null];
    $ig = igbinary_serialize($data);
    $cases['igbinary'] = [bin2hex($ig), igbinary_unserialize($ig) === $data];
    $mp = msgpack_pack($data);
    $cases['msgpack'] = [bin2hex($mp), msgpack_unpack($mp) === $data];

    $img = new Imagick();
    $img->newImage(40, 20, new ImagickPixel('rgb(200,40,10)'));
    $img->setImageFormat('png');
    $img->resizeImage(10, 5, Imagick::FILTER_POINT, 1);
    $c = $img->getImagePixelColor(9, 4)->getColor();
    $cases['imagick'] = [$img->getImageWidth(), $img->getImageHeight(), [$c['r'], $c['g'], $c['b']]];

    return $cases;
}

if (PHP_SAPI === 'cli') {
    echo json_encode(ext_cases(sys_get_temp_dir())), "\n";
}
